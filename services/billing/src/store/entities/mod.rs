//! sea-orm entities, one per table.

pub mod reservation;
pub mod subscription;
pub mod usage_counter;
pub mod usage_record;
pub mod webhook_event;
