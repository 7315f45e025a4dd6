output "amqp_url" {
  description = "amqp:// URL of the RabbitmqCluster (default vhost) for MARQUEE_AMQP_URL."
  value       = local.amqp_url
  sensitive   = true
}

output "rabbitmq_destination" {
  description = "networkPolicy.destinations.rabbitmq for the chart: the broker pods, AMQP port."
  value = {
    ports = [5672]
    to = [{
      namespaceSelector = { matchLabels = { "kubernetes.io/metadata.name" = kubernetes_namespace_v1.rabbitmq.metadata[0].name } }
      podSelector       = { matchLabels = { "app.kubernetes.io/name" = "rabbitmq" } }
    }]
  }
}

output "namespace" {
  description = "Namespace of the Helm release (helm upgrade --install … -n <namespace>)."
  value       = kubernetes_namespace_v1.app.metadata[0].name
}
