//! What a person reads of a run: the live console lines ([`console`]) and the verdict of a
//! failed experiment ([`verdict`]).

pub(crate) mod console;
pub(crate) mod verdict;
