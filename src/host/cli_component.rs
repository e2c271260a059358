//! `wasi:cli/run`: read the arguments and the body, relay, print, exit with the documented code.

use alloc::string::String;
use alloc::vec::Vec;

use wasi::cli::{environment, exit, stderr, stdin, stdout};
use wasi::exports::cli::run::Guest;
use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};
use wasi::io::streams::{InputStream, StreamError};

use super::abi::OutputStream;
use super::fanout::merge;
use super::outbound::{exchange, Rules, Shaped};
use super::streams::{write_all, Deadline};
use crate::answer::Reader;
use crate::cli::{exit_code, locate_in_preopens, parse_args, Command, Data, Invocation, OUTPUT_FAILED, USAGE};
use crate::config::{Job, Names, NO_SHAPE};
use crate::error::RelayError;
use crate::relay::{BodyCollector, Projection, Sink};
use crate::shape::Shaper;

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
        fail(&line, code);
        Err(())
    }
}

/// Prints `line` on stderr and exits with `code`.
fn fail(line: &[u8], code: u8) {
    let _ = write_all(OutputStream::from_handle(stderr::get_stderr().take_handle()), line, &mut Deadline::none(), None);
    exit::exit_with_code(code);
}

/// The memory ran out (`runtime`'s panic handler, on an empty heap): the error's line and exit
/// code, as for any other error.
pub fn out_of_memory() {
    let error = RelayError::AnswerOverMemory;
    fail(&error.log_line(false), exit_code(&error));
}

fn relay(invocation: &Invocation) -> Result<Vec<u8>, RelayError> {
    let paths = invocation.paths();
    let job = &invocation.job;
    // A document of the command's own (--input, stdin) has no limit but the memory's.
    let limit = if invocation.input.is_some() { u64::MAX } else { job.max_response_bytes };
    let mut reader = match &job.shape {
        Some(plan) => Reader::Shape(Shaper::new(plan, &paths, &[], limit, Some(super::runtime::SCRATCH))),
        None => Reader::Fields(Projection::new(&paths, limit)),
    };
    if let Some(input) = &invocation.input {
        read(input, &mut reader, "--input")?;
        return invocation.render(reader.finish()?);
    }
    let body = match &invocation.data {
        Data::None => Vec::new(),
        Data::Inline(text) => {
            if !text.is_empty() {
                crate::json::validate(text.as_bytes()).map_err(RelayError::InvalidJson)?;
            }
            Vec::from(text.as_bytes())
        }
        source => {
            let mut collector = BodyCollector::new(u64::MAX >> 1);
            read(source, &mut collector, "--data")?;
            collector.finish()?
        }
    };
    if !invocation.upstreams.is_empty() {
        // Each upstream gets the request as the one URL would, and the shape merges them.
        let jobs: Vec<Job> = invocation.upstreams.iter().map(|(_, upstream)| job.exchange_with(upstream)).collect();
        let legs: Vec<(&str, &Job, &[u8])> =
            invocation.upstreams.iter().zip(&jobs).map(|((name, _), job)| (name.as_str(), job, body.as_slice())).collect();
        // `parse_args` refuses --upstream without --shape.
        let plan = job.shape.as_ref().ok_or_else(|| RelayError::config("--shape", NO_SHAPE))?;
        let mut deadline = Deadline::new(job.timeout_ms, job.deadline_ms);
        let (outputs, _) = merge(&legs, &mut deadline, false, plan, &[])?;
        return invocation.render(outputs.into_iter().map(Some).collect());
    }
    let mut job = job.exchange_with(&job.upstream);
    let answered = exchange(&mut job, &mut reader, &body, &Rules { copy_headers: &Names::default(), error_bodies: false })?;
    match answered.body? {
        Shaped::Read => invocation.render(reader.finish()?),
        // A 204 or a 304 has no value at any path.
        _ => invocation.render(alloc::vec![None; paths.len()]),
    }
}

/// Reads `source`, a file (`Data::File`) or stdin (anything else), to its end into `sink`;
/// `setting` is the option a failure is reported for.
fn read(source: &Data, sink: &mut dyn Sink, setting: &'static str) -> Result<(), RelayError> {
    match source {
        Data::File(path) => {
            let (stream, _file) = open_file(path, setting)?;
            read_into(&stream, sink, path, setting)
        }
        _ => read_into(&stdin::get_stdin(), sink, "-", setting),
    }
}

/// The stream of the file at `path`, with the file it belongs to (dropped after it, as a child
/// goes before its parent).
fn open_file(path: &str, setting: &'static str) -> Result<(InputStream, Descriptor), RelayError> {
    let unreadable = |path, problem| unreadable(setting, path, problem);
    let preopens = get_directories();
    let names: Vec<&str> = preopens.iter().map(|(_, name)| name.as_str()).collect();
    let (index, relative) =
        locate_in_preopens(path, &names).ok_or_else(|| unreadable(path, "is not inside a directory given to wasmtime with --dir"))?;
    let file = preopens[index]
        .0
        .open_at(PathFlags::SYMLINK_FOLLOW, relative, OpenFlags::empty(), DescriptorFlags::READ)
        .map_err(|_| unreadable(path, "cannot be opened"))?;
    let stream = file.read_via_stream(0).map_err(|_| unreadable(path, "cannot be read"))?;
    Ok((stream, file))
}

fn unreadable(setting: &'static str, path: &str, problem: &str) -> RelayError {
    let mut text = String::from(path);
    text.push(' ');
    text.push_str(problem);
    RelayError::Config { setting, problem: text }
}

/// Reads `stream` to its end into `sink`, a chunk at a time, each handed back once pushed (the
/// sink keeps what it needs: a 100 MB document shaped by the command takes a few pages).
fn read_into(stream: &InputStream, sink: &mut dyn Sink, path: &str, setting: &'static str) -> Result<(), RelayError> {
    loop {
        match stream.blocking_read(sink.room()?) {
            Ok(chunk) => {
                let pushed = sink.push(&chunk);
                super::runtime::release(chunk);
                pushed?;
            }
            Err(StreamError::Closed) => return Ok(()),
            Err(_) => return Err(unreadable(setting, path, "cannot be read")),
        }
    }
}
