//! What reads the upstream's answer as it streams in: the projection of `RELAY_FIELDS`' paths, or
//! a shape's plan. One type for both, so that the exchange and its callers have one path.

use alloc::vec::Vec;

use crate::error::RelayError;
use crate::relay::{Projection, Sink};
use crate::shape::Shaper;

pub enum Reader<'p> {
    Fields(Projection<'p>),
    Shape(Shaper<'p>),
}

impl Sink for Reader<'_> {
    fn push(&mut self, chunk: &[u8]) -> Result<(), RelayError> {
        match self {
            Reader::Fields(projection) => projection.push(chunk),
            Reader::Shape(shaper) => shaper.push(chunk),
        }
    }
}

impl Reader<'_> {
    /// Ends the document: the value at each field's path (`None` where it found nothing), or the
    /// shape's outputs in jq's order.
    pub fn finish(self) -> Result<Vec<Option<Vec<u8>>>, RelayError> {
        match self {
            Reader::Fields(projection) => projection.finish(),
            Reader::Shape(shaper) => Ok(shaper.finish()?.into_iter().map(Some).collect()),
        }
    }
}
