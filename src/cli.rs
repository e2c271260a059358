//! The command: its arguments, its output and its exit codes. The I/O lives in
//! `host::cli_component`; everything it decides is here.

use alloc::string::String;
use alloc::vec::Vec;

use crate::config::{
    check_header, is_leg_name, parse_method, positive_number, Job, Upstream, DEFAULT_DEADLINE_MS, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT_MS, MAX_LEGS,
};
use crate::error::RelayError;
use crate::field::{check_count, Field};
use crate::json::{compact, decode_string};
use crate::path::Path;
use crate::relay::{paths_of, write_answer};
use crate::text;

pub const USAGE: &str = "\
edge-relay: send JSON to an API, print only what is asked for
usage: wasmtime run -S http [--dir DIR] edge_relay_cli.wasm [OPTIONS] URL
       wasmtime run -S http [--dir DIR] edge_relay_cli.wasm --shape PROGRAM [--input FILE]
  --shape PROGRAM         a jq program of edge-relay's subset; one output per line
  --input FILE|-          without a URL: the document (FILE needs --dir); default stdin
  --upstream NAME=URL     repeatable, instead of a URL: fetched at once, $NAME in --shape
  --data JSON|@FILE|@-    body (@FILE needs --dir; @- is stdin)
  --field NAME=PATH       repeatable; /json/pointer or dotted.path; none: whole answer
  --header 'NAME: VALUE'  repeatable
  --method M              default POST with --data, else GET
  --timeout-ms N          default 10000: connecting, and any pause of the upstream
  --deadline-ms N         default 30000: the whole exchange
  --max-response-bytes N  default 8388608
  --raw                   one value per line, strings unescaped
exit codes: 0 ok, 1 output not written, 2 usage, 3 invalid JSON,
4 unreachable or timeout, 5 status not 2xx or shape error, 6 answer too large
";

/// The exit code when the answer could not be written to stdout.
pub const OUTPUT_FAILED: u8 = 1;

/// The path of the whole document, printed when no field is given.
static WHOLE_DOCUMENT: Path = Path { segments: Vec::new() };

/// Where the request body comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    None,
    Inline(String),
    File(String),
    Stdin,
}

/// One run of the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub job: Job,
    pub data: Data,
    pub raw: bool,
    /// Without a URL: where the document is read from (`Data::Stdin` or `Data::File`).
    pub input: Option<Data>,
    /// `--upstream name=URL`: several upstreams fetched at once, each `$name` in the shape.
    pub upstreams: Vec<(String, Upstream)>,
}

// One command per run: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    Version,
    Run(Invocation),
}

fn usage(setting: &'static str, problem: &str) -> RelayError {
    RelayError::config(setting, problem)
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Command, RelayError> {
    let mut data = Data::None;
    let mut fields = Vec::new();
    let mut headers = Vec::new();
    let mut method = None;
    let mut timeout_ms = DEFAULT_TIMEOUT_MS;
    let mut deadline_ms = DEFAULT_DEADLINE_MS;
    let mut max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES;
    let mut raw = false;
    let mut url = None;
    let mut shape = None;
    let mut input = None;
    let mut upstreams: Vec<(String, Upstream)> = Vec::new();
    let mut only_operands = false;

    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if only_operands || !arg.starts_with('-') || arg == "-" {
            if url.replace(arg.as_str()).is_some() {
                return Err(usage("URL", "give exactly one URL"));
            }
            continue;
        }
        let (option, attached) = match text::split_once(arg, b'=') {
            Some((option, value)) if option.starts_with("--") => (option, Some(value)),
            _ => (arg.as_str(), None),
        };
        let mut value = |option: &'static str| -> Result<&str, RelayError> {
            attached.or_else(|| rest.next().map(String::as_str)).ok_or_else(|| usage(option, "needs a value"))
        };
        match option {
            "--" => only_operands = true,
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--raw" => raw = true,
            "--data" => {
                let text = value("--data")?;
                data = match text.strip_prefix('@') {
                    Some("-") => Data::Stdin,
                    Some(path) => Data::File(String::from(path)),
                    None => Data::Inline(String::from(text)),
                };
            }
            "--shape" => shape = Some(value("--shape")?),
            "--upstream" => {
                let (name, url) = text::split_once(value("--upstream")?, b'=').ok_or_else(|| usage("--upstream", "must be NAME=URL"))?;
                if !is_leg_name(name) || upstreams.iter().any(|(known, _)| known == name) || upstreams.len() == MAX_LEGS {
                    return Err(usage(
                        "--upstream",
                        "names must be distinct lower-case names (a-z, 0-9, _), at most 8, none of query and params",
                    ));
                }
                upstreams.push((String::from(name), Upstream::parse(url).map_err(|p| usage("--upstream", p))?));
            }
            "--input" => {
                input = Some(match value("--input")? {
                    "-" => Data::Stdin,
                    path => Data::File(String::from(path)),
                })
            }
            "--field" => fields.push(Field::parse(value("--field")?).map_err(|p| RelayError::Config { setting: "--field", problem: p })?),
            "--header" => {
                let text = value("--header")?;
                let (name, header_value) = text::split_once(text, b':').ok_or_else(|| usage("--header", "must be 'NAME: VALUE'"))?;
                let header_value = header_value.trim_ascii().as_bytes().to_vec();
                let name = check_header(name, &header_value).map_err(|p| usage("--header", p))?;
                headers.push((name, header_value));
            }
            "--method" => method = Some(parse_method(value("--method")?).map_err(|p| usage("--method", p))?),
            "--timeout-ms" => timeout_ms = positive("--timeout-ms", value("--timeout-ms")?)?,
            "--deadline-ms" => deadline_ms = positive("--deadline-ms", value("--deadline-ms")?)?,
            "--max-response-bytes" => max_response_bytes = positive("--max-response-bytes", value("--max-response-bytes")?)?,
            _ => {
                let mut problem = String::from("unknown option ");
                problem.push_str(option);
                return Err(RelayError::Config { setting: "usage", problem });
            }
        }
    }

    // Without a URL, a shape reads its document from --input or stdin.
    let upstream = match url {
        _ if !upstreams.is_empty() && (url.is_some() || input.is_some() || shape.is_none()) => {
            return Err(usage("--upstream", "takes no URL and no --input, and needs --shape to merge the documents"))
        }
        None if !upstreams.is_empty() => Upstream::default(),
        Some(_) if input.is_some() => return Err(usage("--input", "reads the document instead of a URL: give one of them")),
        Some(url) => Upstream::parse(url).map_err(|p| usage("URL", p))?,
        None if shape.is_none() && input.is_none() => return Err(usage("URL", "is missing (see --help)")),
        None => {
            input = Some(input.unwrap_or(Data::Stdin));
            Upstream::default()
        }
    };
    if !fields.is_empty() {
        check_count(&fields).map_err(|p| RelayError::Config { setting: "--field", problem: p.into_string() })?;
    }
    let shape = match shape {
        Some(_) if !fields.is_empty() => return Err(usage("--shape", "and --field are both given: keep one")),
        Some(program) => {
            let names: Vec<&str> = upstreams.iter().map(|(name, _)| name.as_str()).collect();
            let expr = crate::shape::compile(program, &names, false).map_err(|p| RelayError::Config { setting: "--shape", problem: p })?;
            Some(crate::shape::Plan::new(&expr))
        }
        None => None,
    };
    let method = method.unwrap_or_else(|| String::from(if matches!(data, Data::None) { "GET" } else { "POST" }));
    let job = Job { upstream, method, headers, fields, shape, timeout_ms, deadline_ms, max_response_bytes };
    Ok(Command::Run(Invocation { job, data, raw, input, upstreams }))
}

fn positive(option: &'static str, text: &str) -> Result<u64, RelayError> {
    positive_number(text).ok_or_else(|| usage(option, "must be a whole number greater than zero"))
}

impl Invocation {
    /// The paths to capture: the shape's, the fields', or the whole document when neither is given.
    pub fn paths(&self) -> Vec<&Path> {
        if let Some(plan) = &self.job.shape {
            plan.paths()
        } else if self.job.fields.is_empty() {
            alloc::vec![&WHOLE_DOCUMENT]
        } else {
            paths_of(&self.job.fields)
        }
    }

    /// What the command prints for the captured values, newline included. One line per value
    /// for a shape or `--raw`; a single value that stays as it is (an answer, the array of
    /// `[.[] | ...]`) gets its newline in place: a copy would be the answer's size again in the
    /// command's peak memory (17 MB of bench/shape's `[.[] | {id, name}]`).
    pub fn render(&self, mut values: Vec<Option<Vec<u8>>>) -> Result<Vec<u8>, RelayError> {
        let mut out = if self.raw || self.job.shape.is_some() {
            // One output a line, as `jq -c` prints it.
            values.iter_mut().flatten().for_each(compact);
            let decoded = |text: &[u8]| self.raw && text.first() == Some(&b'"');
            if values.len() != 1 || values.iter().flatten().any(|text| decoded(text)) {
                let room = values.iter().map(|value| value.as_ref().map_or(4, Vec::len) + 1).sum();
                let mut lines = Vec::with_capacity(room);
                for value in &values {
                    match value.as_deref() {
                        Some(text) if decoded(text) => lines.extend_from_slice(&decode_string(text)),
                        Some(other) => lines.extend_from_slice(other),
                        None => lines.extend_from_slice(b"null"),
                    }
                    lines.push(b'\n');
                }
                return Ok(lines);
            }
            values.into_iter().next().flatten().unwrap_or_else(|| Vec::from(&b"null"[..]))
        } else if self.job.fields.is_empty() {
            values.into_iter().next().flatten().unwrap_or_default()
        } else {
            write_answer(&self.job.fields, &values)?
        };
        out.push(b'\n');
        Ok(out)
    }
}

/// The documented exit code of each error.
pub fn exit_code(error: &RelayError) -> u8 {
    match error {
        RelayError::Config { .. } | RelayError::BodyTooLarge { .. } | RelayError::BodyOverMemory => 2,
        RelayError::InvalidJson(_) | RelayError::UpstreamInvalidJson(_) | RelayError::UpstreamEncoded | RelayError::RequestShape { .. } => {
            3
        }
        RelayError::UpstreamUnreachable { .. } | RelayError::UpstreamTimeout { .. } => 4,
        // 5 is also jq's code for an error at run time.
        RelayError::UpstreamStatus { .. } | RelayError::UpstreamShape { .. } => 5,
        RelayError::UpstreamTooLarge { .. } | RelayError::AnswerOverMemory => 6,
        RelayError::RequestTimeout { .. } => 4,
        RelayError::InUpstream { error, .. } => exit_code(error),
        RelayError::MissingParameter { .. } | RelayError::InvalidParameter { .. } | RelayError::NotFound | RelayError::MethodNotAllowed => {
            2
        }
    }
}

/// The preopened directory that holds `path`, and `path` relative to it. wasmtime names a
/// `--dir D` preopen by D (`.` for the working directory) or by the guest path of `--dir H::G`.
pub fn locate_in_preopens<'a>(path: &'a str, preopens: &[&str]) -> Option<(usize, &'a str)> {
    let mut best: Option<(usize, &'a str, usize)> = None;
    for (index, &dir) in preopens.iter().enumerate() {
        let relative = if dir == "." || dir.is_empty() {
            if path.starts_with('/') {
                None
            } else {
                Some(path.strip_prefix("./").unwrap_or(path))
            }
        } else if dir == "/" {
            path.strip_prefix('/')
        } else {
            let dir = dir.strip_suffix('/').unwrap_or(dir);
            path.strip_prefix(dir).and_then(|rest| if rest.is_empty() { Some(".") } else { rest.strip_prefix('/') })
        };
        if let Some(relative) = relative {
            let specificity = if dir == "." { 0 } else { dir.len() };
            if best.is_none_or(|(_, _, known)| specificity > known) {
                best = Some((index, relative, specificity));
            }
        }
    }
    best.map(|(index, relative, _)| (index, relative))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn parse(args: &[&str]) -> Result<Command, RelayError> {
        let args: Vec<String> = args.iter().map(|a| String::from(*a)).collect();
        parse_args(&args)
    }

    fn run(args: &[&str]) -> Invocation {
        match parse(args) {
            Ok(Command::Run(invocation)) => invocation,
            other => panic!("{other:?}"),
        }
    }

    fn usage_error(args: &[&str]) -> String {
        match parse(args) {
            Err(error) => {
                assert_eq!(exit_code(&error), 2);
                error.message()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_option_is_read() {
        let inv = run(&[
            "--data",
            "{}",
            "--field",
            "id=/data/id",
            "--field=name",
            "--header",
            "Authorization: Bearer t",
            "--method",
            "PUT",
            "--timeout-ms",
            "250",
            "--max-response-bytes=99",
            "--raw",
            "http://h/x",
        ]);
        assert_eq!(inv.data, Data::Inline("{}".into()));
        assert_eq!(inv.job.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["id", "name"]);
        assert_eq!(inv.job.headers, vec![("authorization".into(), b"Bearer t".to_vec())]);
        assert_eq!((inv.job.method.as_str(), inv.job.timeout_ms, inv.job.max_response_bytes), ("PUT", 250, 99));
        assert!(inv.raw);
        assert_eq!(inv.job.upstream.path_and_query, "/x");
    }

    #[test]
    fn method_defaults_follow_the_body() {
        assert_eq!(run(&["http://h"]).job.method, "GET");
        assert_eq!(run(&["--data", "1", "http://h"]).job.method, "POST");
        assert_eq!(run(&["--data", "@-", "http://h"]).data, Data::Stdin);
        assert_eq!(run(&["--data", "@in.json", "http://h"]).data, Data::File("in.json".into()));
        assert_eq!(run(&["--", "http://h"]).job.upstream.authority, "h");
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(parse(&["--help", "--bogus"]), Ok(Command::Help));
        assert_eq!(parse(&["-V"]), Ok(Command::Version));
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        assert_eq!(usage_error(&["--input", "f.json", "http://a"]), "--input: reads the document instead of a URL: give one of them");
        assert_eq!(usage_error(&["--shape", ".a", "--field", "a"]), "--shape: and --field are both given: keep one");
        assert_eq!(usage_error(&["--shape", "reduce .[] as $x (0; 1)"]), "--shape: `reduce` is not supported (column 1)");
        assert_eq!(usage_error(&["--shape", "$query"]), "--shape: $query is not defined");
        assert_eq!(usage_error(&["http://a", "http://b"]), "URL: give exactly one URL");
        assert_eq!(usage_error(&["--bogus", "http://a"]), "usage: unknown option --bogus");
        assert_eq!(usage_error(&["http://a", "--field"]), "--field: needs a value");
        assert_eq!(usage_error(&["--field", "a..b", "http://a"]), "--field: in \"a..b\": a dotted path has an empty segment");
        assert_eq!(usage_error(&["--header", "novalue", "http://a"]), "--header: must be 'NAME: VALUE'");
        assert!(usage_error(&["--header", "x: a\r\nb", "http://a"]).contains("control character"));
        assert_eq!(usage_error(&["--timeout-ms", "0", "http://a"]), "--timeout-ms: must be a whole number greater than zero");
        assert_eq!(usage_error(&["ftp://a"]), "URL: must start with http:// or https://");
    }

    #[test]
    fn several_upstreams_are_names_for_the_shape() {
        let inv = run(&["--upstream", "a=http://h/x", "--upstream=b_2=https://k/y", "--shape", "{a: $a.x, b: $b_2}"]);
        assert_eq!(inv.upstreams.iter().map(|(n, u)| (n.as_str(), u.authority.as_str())).collect::<Vec<_>>(), [("a", "h"), ("b_2", "k")]);
        assert_eq!(inv.input, None);
        let problem = "--upstream: names must be distinct lower-case names (a-z, 0-9, _), at most 8, none of query and params";
        for bad in [
            &["--upstream", "A=http://h/", "--shape", "."][..],
            &["--upstream", "a=http://h/", "--upstream", "a=http://k/", "--shape", "."],
        ] {
            assert_eq!(usage_error(bad), problem);
        }
        let alone = "--upstream: takes no URL and no --input, and needs --shape to merge the documents";
        assert_eq!(usage_error(&["--upstream", "a=http://h/"]), alone);
        assert_eq!(usage_error(&["--upstream", "a=http://h/", "--shape", ".", "http://k/"]), alone);
        assert_eq!(usage_error(&["--upstream", "a=http://h/", "--shape", "$b"]), "--shape: $b is not defined");
    }

    #[test]
    fn without_a_url_the_document_is_read_and_shaped() {
        let stdin = run(&["--shape", ".a[] | .b"]);
        assert_eq!(stdin.input, Some(Data::Stdin));
        assert_eq!(run(&["--input", "-"]).input, Some(Data::Stdin));
        assert_eq!(usage_error(&[]), "URL: is missing (see --help)");
        let file = run(&["--shape=.", "--input", "big.json"]);
        assert_eq!(file.input, Some(Data::File("big.json".into())));
        // One output per line, as jq -c prints them; --raw unquotes strings, as jq -r.
        let outputs = vec![Some(b"\"caf\\u00e9\"".to_vec()), Some(b"1.0e+2".to_vec())];
        assert_eq!(stdin.render(outputs.clone()).unwrap(), b"\"caf\\u00e9\"\n1.0e+2\n");
        assert_eq!(run(&["--raw", "--shape", "."]).render(outputs.clone()).unwrap(), "café\n1.0e+2\n".as_bytes());
        assert_eq!(stdin.render(vec![]).unwrap(), b"");
    }

    #[test]
    fn output_is_one_json_line_or_raw_lines() {
        let values = vec![Some(b"\"caf\\u00e9\\n\"".to_vec()), Some(b"123456789012345678901234567890".to_vec()), None];
        let inv = run(&["--field", "s", "--field", "n", "--field", "m", "http://h"]);
        assert_eq!(inv.render(values.clone()).unwrap(), b"{\"s\":\"caf\\u00e9\\n\",\"n\":123456789012345678901234567890,\"m\":null}\n");
        let raw = run(&["--raw", "--field", "s", "--field", "n", "--field", "m", "http://h"]);
        assert_eq!(raw.render(values.clone()).unwrap(), "café\n\n123456789012345678901234567890\nnull\n".as_bytes());
        let whole = run(&["http://h"]);
        assert_eq!(whole.paths(), vec![&Path { segments: vec![] }]);
        assert_eq!(whole.render(vec![Some(b"{\"a\": 1}".to_vec())]).unwrap(), b"{\"a\": 1}\n");
    }

    #[test]
    fn exit_codes_are_the_documented_ones() {
        use crate::json::{JsonError, JsonErrorKind};
        let json = JsonError { kind: JsonErrorKind::UnexpectedEnd, offset: 0 };
        assert_eq!(exit_code(&RelayError::InvalidJson(json)), 3);
        assert_eq!(exit_code(&RelayError::UpstreamInvalidJson(json)), 3);
        assert_eq!(exit_code(&RelayError::UpstreamUnreachable { detail: "" }), 4);
        assert_eq!(exit_code(&RelayError::UpstreamTimeout { timeout_ms: 1 }), 4);
        assert_eq!(exit_code(&RelayError::UpstreamStatus { status: 404 }), 5);
        assert_eq!(exit_code(&RelayError::UpstreamTooLarge { limit: 1 }), 6);
    }

    #[test]
    fn files_are_found_in_the_right_preopen() {
        let preopens = [".", "/data", "/data/deeper", "/"];
        assert_eq!(locate_in_preopens("in.json", &preopens), Some((0, "in.json")));
        assert_eq!(locate_in_preopens("./in.json", &preopens), Some((0, "in.json")));
        assert_eq!(locate_in_preopens("/data/in.json", &preopens), Some((1, "in.json")));
        assert_eq!(locate_in_preopens("/data/deeper/x/in.json", &preopens), Some((2, "x/in.json")));
        assert_eq!(locate_in_preopens("/etc/passwd", &preopens), Some((3, "etc/passwd")));
        assert_eq!(locate_in_preopens("/database/x", &[".", "/data"]), None);
        assert_eq!(locate_in_preopens("x", &["/data"]), None);
    }
}
