//! Tests of the analysis loop as a whole (the expression language, arguments, templates and
//! providers keep their unit tests next to their code).

mod assess;
mod providers;
