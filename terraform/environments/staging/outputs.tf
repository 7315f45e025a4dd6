output "cluster_id" {
  description = "doctl kubernetes cluster kubeconfig save <cluster_id>"
  value       = module.cluster.cluster_id
}

output "vpc_cidr" {
  description = "networkPolicy.destinations.postgres for the chart."
  value       = module.cluster.vpc_cidr
}

output "database_urls" {
  description = "Per-service database URLs for the services' Secrets."
  value       = module.cluster.database_urls
  sensitive   = true
}

output "bucket_name" {
  description = "Assets bucket."
  value       = module.cluster.bucket_name
}

output "bucket_endpoint" {
  description = "S3 endpoint of the assets bucket."
  value       = module.cluster.bucket_endpoint
}
