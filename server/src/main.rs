//! `tollgate`: the server and the operator's command line.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match tollgate_server::cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
