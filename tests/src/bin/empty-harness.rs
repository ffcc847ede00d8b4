//! A harness with no experiments: it must refuse to run rather than pass vacuously.

chaos_harness::main!();
