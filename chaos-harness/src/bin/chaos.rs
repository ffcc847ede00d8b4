//! `chaos run` and `chaos validate` for Chaos Toolkit experiment files, as Chaos Toolkit spells
//! them; `chaos --help` lists the options.

fn main() -> std::process::ExitCode {
    chaos_harness::__private::chaos_main()
}
