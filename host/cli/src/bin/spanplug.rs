//! `spanplug`: inspect plugins, check tracing configs, and read span files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use spanplug_cli::install::{install_plugins, Probed};
use spanplug_cli::manifest::{pins_yaml, Manifest};
use spanplug_cli::terminal::{escape, escape_lines};
use spanplug_cli::{spans_file, tree, waterfall};
use spanplug_config::{TracingConfig, LOW_SAMPLING_RATIO};
use spanplug_loader::stderr_log;
use spanplug_loader::{load_import_path, ModuleRef, Plugin, PluginSearchPath};
use spanplug_sdk::span_view::ordered_resource;

#[derive(Parser)]
#[command(
    name = "spanplug",
    version,
    about = "Inspect spanplug plugins, check tracing configs, read span files"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the functions a plugin exports, their descriptions and its API version.
    List {
        /// A module name (resolved like `exporter_import_path`), or a path to a `.so`
        /// (one with a `/`, or a file that exists).
        plugin: String,
        /// Extra folders to search, before the executable's own.
        #[arg(long = "plugin-path")]
        plugin_path: Vec<PathBuf>,
    },
    /// Load every plugin of a service config and call every factory; exit non-zero on failure.
    Check {
        /// A service YAML file with a `tracing_config` section, or an OpenTelemetry
        /// configuration file (one with `file_format`; each problem is printed with its
        /// YAML path and line).
        config: PathBuf,
        /// The service name factories are told (default: from OTEL_SERVICE_NAME).
        #[arg(long)]
        service_name: Option<String>,
    },
    /// Print each trace in console_file output (pretty or jsonl) as a tree with durations.
    Tree {
        #[command(flatten)]
        input: SpanInput,
    },
    /// Copy plugin libraries into a plugin folder (e.g. /opt/spanplug/plugins), checking each
    /// loads as a spanplug plugin and replacing files atomically; print their SHA-256 pins.
    InstallPlugins {
        /// The plugin folder to install into (created if missing).
        dest: PathBuf,
        /// Plugin libraries, folders holding them (non-plugin libraries there are skipped), or a
        /// bundle's manifest.json or folder (every library it lists, checked against its SHA-256).
        #[arg(required = true)]
        sources: Vec<PathBuf>,
        /// Also write a manifest of what was installed here (files relative to its folder).
        #[arg(long = "write-manifest", value_name = "FILE")]
        write_manifest: Option<PathBuf>,
    },
    /// Write a new plugin crate (a factory that checks its keys and honours dry runs, one
    /// processor, a unit test and a load test) that builds and passes `cargo test` as written.
    NewPlugin {
        /// The crate name (lowercase letters, digits, `_`, `-`); the module is it with `-` as `_`.
        name: String,
        /// A transformer (edits and drops spans for the processors after it) instead of an exporter.
        #[arg(long)]
        transformer: bool,
        /// The folder to create (default: ./NAME); it must not exist or be empty.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Depend on spanplug-api by path: a spanplug checkout or its plugin-api folder
        /// (default: the checkout this spanplug was built from).
        #[arg(long, conflicts_with = "api_version")]
        api_path: Option<PathBuf>,
        /// Depend on the published spanplug-api V (and spanplug-plugin-test) instead.
        #[arg(long)]
        api_version: Option<String>,
    },
    /// Write console_file output as a self-contained HTML page with a waterfall per trace.
    View {
        #[command(flatten)]
        input: SpanInput,
        /// The page to write: a file (replaced), or `-`, `/dev/stdout`, a FIFO or a
        /// terminal (written as it is).
        #[arg(short, long, default_value = "trace.html")]
        output: PathBuf,
    },
}

/// The span files `tree` and `view` read, and how much of them.
#[derive(clap::Args)]
struct SpanInput {
    /// Span files, or folders of them (a folder's `spans/` subfolder is read too).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Read at most this many MiB of span files in all; more is refused.
    #[arg(long = "max-mib", default_value_t = spans_file::Limits::DEFAULT_MAX_TOTAL_BYTES >> 20)]
    max_mib: u64,
}

fn main() -> ExitCode {
    stderr_log::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List {
            plugin,
            plugin_path,
        } => list(&plugin, &plugin_path),
        Command::Check {
            config,
            service_name,
        } => check(&config, service_name),
        Command::Tree { input } => print_tree(&input),
        Command::View { input, output } => write_view(&input, &output),
        Command::InstallPlugins {
            dest,
            sources,
            write_manifest,
        } => install(&dest, &sources, write_manifest.as_deref()),
        Command::NewPlugin {
            name,
            transformer,
            dir,
            api_path,
            api_version,
        } => new_plugin(&name, transformer, dir, api_path, api_version),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", escape_lines(&format!("{error:#}"), "\n"));
            ExitCode::FAILURE
        }
    }
}

fn new_plugin(
    name: &str,
    transformer: bool,
    dir: Option<PathBuf>,
    api_path: Option<PathBuf>,
    api_version: Option<String>,
) -> anyhow::Result<()> {
    use spanplug_cli::new_plugin::{self, ApiSource, Kind};
    let api = ApiSource::from_flags(api_path.as_deref(), api_version)?;
    let kind = if transformer {
        Kind::Transformer
    } else {
        Kind::Exporter
    };
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    print!("{}", new_plugin::create(name, kind, &api, &dir)?);
    Ok(())
}

fn list(plugin: &str, plugin_path: &[PathBuf]) -> anyhow::Result<()> {
    let module = if plugin.contains('/') || Path::new(plugin).is_file() {
        ModuleRef::File(PathBuf::from(plugin))
    } else {
        ModuleRef::Name(plugin.to_string())
    };
    let path = PluginSearchPath::new(plugin_path).resolve(&module)?;
    let plugin = Plugin::load(&path)?;
    let (package, version) = plugin.package();
    println!("{}", path.display());
    println!("  package: {package} {version}");
    println!("  built against spanplug-api {}", plugin.api_version());
    println!("  functions:");
    let width = plugin
        .factories()
        .iter()
        .map(|f| f.name().len())
        .max()
        .unwrap_or(0);
    for factory in plugin.factories() {
        println!(
            "    {:width$}  {}{}",
            factory.name().as_str(),
            if factory.transforms() {
                "[transformer] "
            } else {
                ""
            },
            factory.description().as_str()
        );
    }
    Ok(())
}

/// `<type>[ + <exporter type>] <otel.component.name>` of the last of `named`'s
/// processors (`named`: each processor's import path so far, as a host names them).
fn component(processor: &spanplug_api::Processor, named: &[String]) -> String {
    let import_path = named.last().map(String::as_str).unwrap_or_default();
    let (own, exporter) = spanplug_sdk::loader::component_types(processor, import_path);
    let names = spanplug_sdk::loader::component_names(named.iter().map(String::as_str));
    let name = names.last().cloned().unwrap_or_default();
    let exporter = Some(exporter).filter(|t| !t.is_empty());
    let exporter = exporter.map(|t| format!(" + {t}")).unwrap_or_default();
    escape(&format!("{own}{exporter} {name}")).into_owned()
}

/// Whether spanplug's own metrics are on, and what decides.
fn describe_self_metrics(config: &TracingConfig) -> String {
    match (&config.self_metrics, config.config_file.is_some()) {
        (Some(metrics), _) if metrics.from_file => format!(
            "on, every {:?}, from the configuration file's meter_provider (no OTEL_* variable applies)",
            metrics.interval.unwrap_or_default()
        ),
        (Some(_), _) => "on (self_metrics; the OTEL_METRICS_* variables apply over it)".into(),
        (None, true) => "off (the configuration file has no periodic otlp_http reader)".into(),
        (None, false) => "off unless OTEL_METRICS_EXPORTER=otlp".into(),
    }
}

fn check(path: &Path, service_name: Option<String>) -> anyhow::Result<()> {
    let mut config = TracingConfig::from_yaml_file(path)?.with_env_overrides()?;
    config.service_name = service_name.or(config.service_name);
    println!("config: {}", escape(&path.display().to_string()));
    if !config.enabled {
        println!("tracing: disabled (no tracing_config section, enabled: false, SPANPLUG_TRACING_ENABLED or OTEL_SDK_DISABLED; in a configuration file, disabled: true or no tracer_provider)");
        return Ok(());
    }
    println!("sampler: {}", escape(&config.describe_sampler()));
    if let Some(ratio) = config.sampling_ratio.filter(|r| *r < LOW_SAMPLING_RATIO) {
        println!(
            "warning: sampling_ratio {ratio} keeps fewer than 1 in {:.0} traces; a smoke test may show no spans",
            1.0 / LOW_SAMPLING_RATIO
        );
    }
    let resource = std::sync::Arc::new(ordered_resource(&spanplug_sdk::resource(&config)));
    let search = PluginSearchPath::new(&config.plugin_path);
    let input = config.factory_input(&resource).dry_run();
    println!("service.name: {}", escape(input.service_name));
    println!("on_error: {:?}", config.on_error);
    println!("self metrics: {}", describe_self_metrics(&config));
    let mut failures = 0;
    let entries = config.entries();
    if entries.is_empty() {
        println!("exporters: none (OTEL_TRACES_EXPORTER=none)");
    }
    // Each processor's import path so far: its otel.component.name, as a running host names it.
    let mut named: Vec<String> = Vec::new();
    for entry in &entries {
        match load_import_path(entry, &search, config.pins(), &input) {
            Ok(loaded) => {
                println!(
                    "ok    {} ({}, spanplug-api {})",
                    escape(&loaded.import_path.to_string()),
                    escape(&loaded.library.display().to_string()),
                    escape(&loaded.api_version.to_string())
                );
                for processor in &loaded.processors {
                    println!("        processor: {}", escape(&processor.name()));
                    named.push(loaded.import_path.to_string());
                    println!("        component: {}", component(processor, &named));
                    if let Err(error) = processor.shutdown(config.shutdown_timeout) {
                        let error = escape_lines(&error.to_string(), "\n        ");
                        println!("        warning: shutdown: {error}");
                    }
                }
            }
            Err(error) => {
                failures += 1;
                println!(
                    "FAIL  {}\n        {}",
                    escape(&entry.import_path.to_string()),
                    escape_lines(&error.to_string(), "\n        ")
                );
            }
        }
    }
    if failures > 0 {
        bail!(
            "{failures} of {} exporter import paths failed",
            entries.len()
        );
    }
    Ok(())
}

/// The spans under `input`, with the first unreadable records reported on stderr and
/// the rest counted.
fn read_spans(input: &SpanInput) -> anyhow::Result<Vec<spans_file::SpanRecord>> {
    let limits = spans_file::Limits {
        max_total_bytes: input.max_mib.saturating_mul(1 << 20),
        ..spans_file::Limits::default()
    };
    let set = match spans_file::read_all(&input.paths, &limits) {
        Err(error @ spans_file::ReadError::TooLarge { .. }) => {
            bail!("{error} ({} MiB; raise it with --max-mib)", input.max_mib)
        }
        read => read?,
    };
    for problem in &set.problems {
        eprintln!("warning: {}", escape(&problem.to_string()));
    }
    let not_shown = set.problem_count - set.problems.len() as u64;
    if not_shown > 0 {
        eprintln!("warning: and {not_shown} more unreadable records or lines (not shown)");
    }
    if set.spans.is_empty() {
        bail!("no spans found in {}", shown_paths(&input.paths));
    }
    Ok(set.spans)
}

fn shown_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

fn print_tree(input: &SpanInput) -> anyhow::Result<()> {
    print!("{}", tree::render_trees(&read_spans(input)?));
    Ok(())
}

/// Loads `library` in a child `spanplug list`, so that its constructors never run in
/// the installer, and reads back its API version and functions.
fn probe(library: &Path) -> Result<Probed, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find spanplug itself: {e}"))?;
    let output = std::process::Command::new(exe)
        .arg("list")
        .arg(library)
        .env("SPANPLUG_LOG", "error")
        .output()
        .map_err(|e| format!("cannot start the probe: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.trim().trim_start_matches("error: ");
        return Err(match output.status.code() {
            Some(_) => reason.to_string(),
            None => format!("loading it killed the probe ({}) {reason}", output.status),
        });
    }
    let api_version = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("built against spanplug-api "))
        .ok_or("the probe did not report an API version")?
        .to_string();
    let functions = stdout
        .lines()
        .skip_while(|line| line.trim() != "functions:")
        .skip(1)
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect();
    Ok(Probed {
        api_version,
        functions,
    })
}

fn install(dest: &Path, sources: &[PathBuf], manifest: Option<&Path>) -> anyhow::Result<()> {
    let installed = install_plugins(sources, dest, probe)?;
    for plugin in &installed {
        println!(
            "installed {} (spanplug-api {}): {}",
            plugin.path.display(),
            plugin.api_version,
            plugin.functions.join(", ")
        );
    }
    if let Some(path) = manifest {
        let dir = std::path::absolute(path.parent().unwrap_or(Path::new(".")))?;
        Manifest::of(&installed, &dir)
            .map_err(anyhow::Error::msg)?
            .write(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!(
        "use it with SPANPLUG_PLUGIN_PATH={} or tracing_config.plugin_path",
        dest.display()
    );
    println!("pin them (tracing_config):\n{}", pins_yaml(&installed));
    Ok(())
}

fn write_view(input: &SpanInput, output: &Path) -> anyhow::Result<()> {
    // Writing the page over a span file would destroy the spans it shows.
    if let Ok(target) = std::fs::metadata(output) {
        use std::os::unix::fs::MetadataExt;
        let mut inputs = input
            .paths
            .iter()
            .flat_map(|path| spans_file::span_files(path).unwrap_or_default());
        if let Some(input) = inputs.find(|input| {
            std::fs::metadata(input)
                .is_ok_and(|m| m.dev() == target.dev() && m.ino() == target.ino())
        }) {
            bail!(
                "the output {} is the span file {} it would read; choose another -o",
                output.display(),
                input.display()
            );
        }
    }
    let spans = read_spans(input)?;
    let written = waterfall::write_page(&spans, output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let summary = format!("wrote {} ({} spans)", output.display(), spans.len());
    // A page written to a stream may be standard output: the summary goes apart.
    match written {
        waterfall::PageOutput::File => println!("{summary}"),
        waterfall::PageOutput::Stream => eprintln!("{summary}"),
    }
    Ok(())
}
