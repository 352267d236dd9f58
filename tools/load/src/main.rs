//! The load harness's command line: see the library's documentation.

use std::process::ExitCode;
use std::time::Duration;

use janrain_auth_load::{Options, run};

const USAGE: &str =
    "usage: load [--seconds 10] [--concurrency 128] [--replay none|memory] [--max-growth-mib 16]";

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--seconds" => {
                let v = value("--seconds")?;
                let secs: f64 = v
                    .parse()
                    .map_err(|_| format!("--seconds: {v:?} is not a number"))?;
                if !(0.5..=600.0).contains(&secs) {
                    return Err("--seconds must be between 0.5 and 600".into());
                }
                options.duration = Duration::from_secs_f64(secs);
            }
            "--concurrency" => {
                let v = value("--concurrency")?;
                options.concurrency = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or_else(|| {
                        format!("--concurrency: {v:?} is not a number from 1 to 1024")
                    })?;
            }
            "--replay" => match value("--replay")?.as_str() {
                "none" => options.replay = false,
                "memory" => options.replay = true,
                other => return Err(format!("--replay: {other:?} is neither none nor memory")),
            },
            "--max-growth-mib" => {
                let v = value("--max-growth-mib")?;
                options.max_growth_mib = v
                    .parse()
                    .map_err(|_| format!("--max-growth-mib: {v:?} is not a number"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("load: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(run(options));
    print!("{}", report.render());
    match report.verdict() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
