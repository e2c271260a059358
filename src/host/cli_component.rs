//! `wasi:cli/run`: read the arguments and the body, relay, print, exit with the documented code.

use alloc::string::String;
use alloc::vec::Vec;

use wasi::cli::{environment, exit, stderr, stdin, stdout};
use wasi::exports::cli::run::Guest;
use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};
use wasi::io::streams::{InputStream, StreamError};

use super::abi::OutputStream;
use super::outbound::{exchange, Rules, Shaped};
use super::streams::{write_all, Deadline};
use crate::cli::{exit_code, locate_in_preopens, parse_args, Command, Data, Invocation, OUTPUT_FAILED, USAGE};
use crate::config::Names;
use crate::error::RelayError;

struct Cli;

wasi::cli::command::export!(Cli);

impl Guest for Cli {
    fn run() -> Result<(), ()> {
        let args = environment::get_arguments();
        let outcome = match parse_args(args.get(1..).unwrap_or(&[])) {
            Ok(Command::Help) => Ok(Vec::from(USAGE)),
            Ok(Command::Version) => Ok(Vec::from(concat!("edge-relay ", env!("CARGO_PKG_VERSION"), "\n"))),
            Ok(Command::Run(invocation)) => relay(&invocation),
            Err(error) => Err(error),
        };
        let stdout = OutputStream::from_handle(stdout::get_stdout().take_handle());
        let (line, code) = match outcome {
            Ok(output) => match write_all(stdout, &output, &mut Deadline::none(), None) {
                Ok(()) => return Ok(()),
                // A closed stdout or a full disk: the answer is lost, which the exit code must say.
                Err(_) => (Vec::from(&b"edge-relay: the output could not be written\n"[..]), OUTPUT_FAILED),
            },
            Err(error) => (error.log_line(false), exit_code(&error)),
        };
        let _ = write_all(OutputStream::from_handle(stderr::get_stderr().take_handle()), &line, &mut Deadline::none(), None);
        exit::exit_with_code(code);
        Err(())
    }
}

fn relay(invocation: &Invocation) -> Result<Vec<u8>, RelayError> {
    let body = match &invocation.data {
        Data::None => Vec::new(),
        Data::Inline(text) => Vec::from(text.as_bytes()),
        Data::File(path) => read_file(path)?,
        Data::Stdin => read_to_end(&stdin::get_stdin()).map_err(|_| unreadable("-", "stdin could not be read"))?,
    };
    if !body.is_empty() {
        crate::json::validate(&body).map_err(RelayError::InvalidJson)?;
    }
    let paths = invocation.paths();
    let mut job = invocation.job.clone();
    let answered = exchange(&mut job, &paths, &body, &Rules { copy_headers: &Names::default(), error_bodies: false })?;
    match answered.body? {
        Shaped::Values(values) => invocation.render(&values),
        // A 204 or a 304 has no value at any path.
        _ => invocation.render(&alloc::vec![None; paths.len()]),
    }
}

fn read_file(path: &str) -> Result<Vec<u8>, RelayError> {
    let preopens = get_directories();
    let names: Vec<&str> = preopens.iter().map(|(_, name)| name.as_str()).collect();
    let (index, relative) =
        locate_in_preopens(path, &names).ok_or_else(|| unreadable(path, "is not inside a directory given to wasmtime with --dir"))?;
    let file = preopens[index]
        .0
        .open_at(PathFlags::SYMLINK_FOLLOW, relative, OpenFlags::empty(), DescriptorFlags::READ)
        .map_err(|_| unreadable(path, "cannot be opened"))?;
    let stream = file.read_via_stream(0).map_err(|_| unreadable(path, "cannot be read"))?;
    read_to_end(&stream).map_err(|_| unreadable(path, "cannot be read"))
}

fn unreadable(path: &str, problem: &str) -> RelayError {
    let mut text = String::from(path);
    text.push(' ');
    text.push_str(problem);
    RelayError::Config { setting: "--data", problem: text }
}

/// Reads `stream` to its end.
fn read_to_end(stream: &InputStream) -> Result<Vec<u8>, StreamError> {
    let mut all = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => all.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(all),
            Err(error) => return Err(error),
        }
    }
}
