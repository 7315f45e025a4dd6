output "cluster_name" {
  description = "gcloud container clusters get-credentials <cluster_name> --region <region>"
  value       = module.cluster.cluster_name
}

output "postgres_private_cidr" {
  description = "networkPolicy.destinations.postgres for the chart."
  value       = module.cluster.postgres_private_cidr
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

output "content_service_account" {
  description = "Google service account for the content service (Workload Identity)."
  value       = module.cluster.content_service_account
}
