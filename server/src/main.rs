//! `liveform`: the form server and the integrator's link tools.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use liveform_core::launch::crypto::Algorithm;
use liveform_server::app::{self, AppState, Dist};
use liveform_server::{config, link, DEMO_CONFIG};

#[derive(Parser)]
#[command(
    name = "liveform",
    version,
    about = "Liveform: a self-hostable, ARGOS-compatible identity-verification form"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the form with a config file of [[project]] entries (see docs/config.md).
    Serve {
        #[arg(long)]
        config: PathBuf,
        /// Address to listen on (port 0 picks a free port; the chosen address is printed).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// The built SPA (Trunk's dist/).
        #[arg(long, default_value = "dist")]
        dist: PathBuf,
        /// Data directory (uploads and the submission database; created if missing). Default:
        /// the config's server.data_dir, else ./data.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Serve the host kit's example page (/embed/example.html), framing only this server's
        /// own loopback origins: for end-to-end tests (loopback addresses only).
        #[arg(long, hide = true)]
        example_host_page: bool,
    },
    /// Serve the embedded demo projects on loopback and print working links.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[arg(long, default_value = "dist")]
        dist: PathBuf,
    },
    /// Encrypt or decrypt the `encrypted` link parameter, as ARGOS's dashboard tool does.
    Link {
        #[command(subcommand)]
        action: LinkCommand,
    },
    /// Validate a config file and exit (0 = valid).
    CheckConfig { config: PathBuf },
    /// Print the error catalogue (Markdown).
    Errors,
    /// Print the link-parameter table (Markdown).
    Params,
}

#[derive(Subcommand)]
enum LinkCommand {
    /// Print the ciphertext for a JSON object (or the whole link with --pid and --base-url).
    Encrypt {
        /// The project's API key or secretKey (or set LIVEFORM_KEY).
        #[arg(long, env = "LIVEFORM_KEY", hide_env_values = true)]
        key: String,
        #[arg(long, value_parser = parse_algorithm)]
        algorithm: Algorithm,
        /// The options, as a JSON object, e.g. '{"userid":"u1","allowedCountries":"USA,KOR"}'.
        #[arg(long)]
        json: String,
        #[arg(long, requires = "base_url")]
        pid: Option<String>,
        #[arg(long, requires = "pid")]
        base_url: Option<String>,
    },
    /// Open a link exactly as the server does and print its parameters, offer and steps as JSON
    /// (or exit non-zero with the error code on stderr).
    Inspect {
        #[arg(long)]
        config: PathBuf,
        /// A whole link or just its query string.
        link: String,
    },
    /// Print the decrypted JSON of a ciphertext (plain, percent-encoded, or a whole link).
    Decrypt {
        #[arg(long, env = "LIVEFORM_KEY", hide_env_values = true)]
        key: String,
        #[arg(long, value_parser = parse_algorithm)]
        algorithm: Algorithm,
        ciphertext: String,
    },
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server's log (stderr; `RUST_LOG`, default `info`). Its stdout lines stay plain.
    liveform_server::trace::init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            // The command's answer, not a log line: the reason a command (or start-up) failed.
            eprintln!("liveform: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve {
            config,
            addr,
            dist,
            data,
            example_host_page,
        } => {
            if example_host_page && !addr.ip().is_loopback() {
                return Err(format!(
                    "--example-host-page is for loopback only (tests), not {addr}"
                ));
            }
            let cfg = config::load(&config).map_err(|e| format!("{}: {e}", config.display()))?;
            let data = data
                .or_else(|| {
                    cfg.server
                        .data_dir
                        .as_ref()
                        .map(|d| config.parent().unwrap_or(Path::new(".")).join(d))
                })
                .unwrap_or_else(|| PathBuf::from("data"));
            log_warnings(&cfg);
            let mut state = with_storage(cfg, load_dist(&dist), &data)?;
            if example_host_page {
                // Filled with the bound origins by `serve`.
                state.example_host_page = Some(Vec::new());
            }
            run_server(state, addr, |_| {})
        }
        Command::Demo { addr, dist } => {
            if !addr.ip().is_loopback() {
                return Err(format!("the demo listens on loopback only, not {addr}"));
            }
            let mut cfg =
                config::parse(DEMO_CONFIG, |_| None).map_err(|e| format!("demo config: {e}"))?;
            // The handoff QR code points back at this address (port 0: not known yet, so off).
            if cfg.server.public_base_url.is_none() && addr.port() != 0 {
                cfg.server.public_base_url = Some(format!("http://{addr}"));
            }
            // The host kit's example page (/embed/example.html) works out of the box: the same
            // server under its other loopback name is a second origin that may frame "demo".
            if addr.port() != 0 {
                if let Some(p) = cfg.projects.iter_mut().find(|p| p.pid == "demo") {
                    p.allowed_origins
                        .push(format!("http://localhost:{}", addr.port()));
                }
            }
            log_warnings(&cfg);
            let projects = cfg.projects.clone();
            let data = std::env::temp_dir().join(format!("liveform-demo-{}", std::process::id()));
            println!(
                "liveform: demo data (captures, submissions) in {}",
                data.display()
            );
            let mut state = with_storage(cfg, load_dist(&dist), &data)?;
            // The demo's host page frames only this server (its two loopback names).
            state.example_host_page = Some(Vec::new());
            run_server(state, addr, move |local| {
                let base = format!("http://{local}");
                println!();
                println!("Liveform demo (loopback only). Open one of these links:");
                // GCM first: the mode whose links keep their restrictions. ECB is ARGOS's older
                // "AES-256", kept for compatibility (its links can be cut, docs/parameters.md).
                let gcm_first = projects
                    .iter()
                    .filter(|p| p.algorithm == Algorithm::Gcm)
                    .chain(projects.iter().filter(|p| p.algorithm == Algorithm::Ecb));
                for p in gcm_first {
                    let json = match p.algorithm {
                        Algorithm::Ecb => {
                            r##"{"userid":"demo-user","cf1":"order-42","allowedCountries":"KOR,USA,JPN,GBR,DEU","mainColor":"#0f766e"}"##
                        }
                        Algorithm::Gcm => {
                            r#"{"email":"demo@example.com","userid":"demo-gcm","allowedIdTypes":"passport,drivers_license"}"#
                        }
                    };
                    if let Ok(ct) = link::encrypt(p.algorithm, &p.key, json) {
                        let kind = match p.algorithm {
                            Algorithm::Ecb => "encrypted (ECB, compatibility mode)",
                            Algorithm::Gcm => "encrypted (GCM)",
                        };
                        println!("  {kind}: {}&lang=en", link::build_link(&base, &p.pid, &ct));
                        if p.algorithm == Algorithm::Ecb {
                            println!(
                                "      ECB links have no integrity: their restrictions can be cut out. Use GCM."
                            );
                        }
                    }
                }
                let plain =
                    format!("{base}/?pid=demo&lang=en&email=demo%40example.com&userid=demo-user");
                println!("  plain link:      {plain}");
                if local.ip().is_loopback() && local.port() != 0 {
                    let form: String = form_urlencoded::byte_serialize(plain.as_bytes()).collect();
                    println!(
                        "  in a host page:  http://localhost:{}/embed/example.html?form={form}",
                        local.port()
                    );
                }
                println!("Stop with Ctrl-C.");
            })
        }
        Command::Link { action } => match action {
            LinkCommand::Encrypt {
                key,
                algorithm,
                json,
                pid,
                base_url,
            } => {
                let ct = link::encrypt(algorithm, &key, &json).map_err(|e| e.to_string())?;
                match (pid, base_url) {
                    (Some(pid), Some(base)) => println!("{}", link::build_link(&base, &pid, &ct)),
                    _ => println!("{ct}"),
                }
                Ok(())
            }
            LinkCommand::Inspect { config, link } => {
                let cfg =
                    config::load(&config).map_err(|e| format!("{}: {e}", config.display()))?;
                let query = link.split_once('?').map_or(link.as_str(), |(_, q)| q);
                let now = (app::system_clock())();
                let opened = liveform_server::opening::open_link(&cfg, query, now)
                    .map_err(|e| e.to_string())?;
                let json = liveform_server::opening::inspect_json(&opened);
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json).unwrap_or_default()
                );
                Ok(())
            }
            LinkCommand::Decrypt {
                key,
                algorithm,
                ciphertext,
            } => {
                let json =
                    link::decrypt(algorithm, &key, &ciphertext).map_err(|e| e.to_string())?;
                println!("{json}");
                Ok(())
            }
        },
        Command::CheckConfig { config } => {
            let cfg = config::load(&config).map_err(|e| format!("{}: {e}", config.display()))?;
            println!(
                "{}: {} project(s), valid",
                config.display(),
                cfg.projects.len()
            );
            // Valid, but say what the links of each project cannot protect (issue 15).
            for w in cfg.warnings() {
                println!("warning: {w}");
            }
            Ok(())
        }
        Command::Errors => {
            print!("{}", liveform_core::errors::catalogue_markdown());
            Ok(())
        }
        Command::Params => {
            print!("{}", liveform_core::launch::spec::params_markdown());
            Ok(())
        }
    }
}

/// Start-up warnings: what the projects' links cannot protect (ECB, plain loosening).
fn log_warnings(cfg: &config::ValidConfig) {
    for w in cfg.warnings() {
        tracing::warn!("{w}");
    }
}

/// The app state with its data directory (created if missing) and, with a storage key, the store.
fn with_storage(
    cfg: config::ValidConfig,
    dist: Option<Dist>,
    data: &Path,
) -> Result<AppState, String> {
    std::fs::create_dir_all(data)
        .map_err(|e| format!("cannot create data directory {}: {e}", data.display()))?;
    if cfg.storage_key.is_none() {
        tracing::warn!(
            "no server.storage_key: captures are refused (503 LF-50005) and sessions are kept in clear; see docs/config.md"
        );
    }
    let mut state = AppState::new(cfg, dist, app::system_clock());
    state.ms_clock = Some(app::system_ms_clock());
    state
        .open_store(data)
        .map_err(|e| format!("cannot open the data directory {}: {e}", data.display()))?;
    if state.db.backend() == liveform_server::db::Backend::Postgres {
        // Several instances: one time line, the database's.
        let (secs, ms) = app::database_clocks(state.db.clone());
        state.clock = secs;
        state.ms_clock = Some(ms);
    }
    Ok(state)
}

fn load_dist(dir: &Path) -> Option<Dist> {
    match Dist::load(dir) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(
                dist = %dir.display(),
                error = %e,
                "no SPA; the API works, pages answer 503. Build it with scripts/build-spa.sh"
            );
            None
        }
    }
}

fn run_server(
    state: AppState,
    addr: SocketAddr,
    after: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        // Blocking threads wait on the database (SQLite has one writer; PostgreSQL a pool): a few
        // dozen keep it busy, hundreds only hold memory (tokio's default allows 512).
        .max_blocking_threads(64)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(app::serve(state, addr, |local| {
        println!("liveform: listening on http://{local}");
        after(local);
        let _ = std::io::stdout().flush();
    }))
    .map_err(|e| format!("cannot serve on {addr}: {e}"))
}
