//! Integration tests live in `it/`. The README's examples are compiled here, so that they stay
//! true to the API.

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeExamples;
