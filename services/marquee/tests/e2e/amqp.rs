//! RabbitMQ for fleets started with `Options { amqp: true, .. }`: the broker on this
//! machine (`marquee_testkit::amqp::amqp_url`), an exchange of the fleet's own (so
//! parallel tests never share queues), the exchange and every queue of the fleet's
//! consumers deleted when the fleet is dropped, and the broker lock held (shared)
//! meanwhile, so marquee-bus's broker-restart test never stops the broker under a fleet.

use marquee_bus::BusSettings;
use marquee_bus::names::QueueNames;
use marquee_testkit::amqp::Topology;

/// The fleet's exchange and its `consumers`' queues (work, delay, dead-letter), deleted
/// when dropped.
pub fn topology(settings: &BusSettings, consumers: &[&str]) -> Topology {
    let topology = Topology::new(settings.exchange.clone());
    for consumer in consumers {
        let names = QueueNames::new(&settings.exchange, consumer);
        topology.add_queues([names.work.clone(), names.dead_letter.clone()]);
        topology.add_queues(
            settings
                .retry
                .delays_ms()
                .into_iter()
                .map(|d| names.retry(d)),
        );
    }
    topology
}
