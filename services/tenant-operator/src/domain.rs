pub mod resources;
pub mod tenant;

#[cfg(test)]
pub(crate) mod fixtures;
