output "cluster_id" {
  description = "doctl kubernetes cluster kubeconfig save <cluster_id>"
  value       = module.cluster.cluster_id
}

output "namespace" {
  description = "Namespace Terraform created for the Helm release (its Secrets are there)."
  value       = module.platform.namespace
}

output "network_policy_destinations" {
  description = "networkPolicy.destinations for the chart: postgres, redis, objectStore, rabbitmq."
  value       = local.destinations
}

output "chart_values" {
  description = "Values file for the chart (terraform output -json chart_values > terraform-values.json; helm … -f terraform-values.json)."
  value = {
    networkPolicy = { destinations = local.destinations }
    identity      = { publicKeys = module.secrets.identity_public_keys }
    services = {
      gateway = {
        env = { MARQUEE_GATEWAY_TRUSTED_PROXIES = module.cluster.pods_cidr }
      }
      content = {
        env = { MARQUEE_OBJECT_STORE_URL = "s3://${module.cluster.bucket_name}/content" }
      }
    }
  }
}

output "identity_public_keys" {
  description = "Ed25519 public key per service (the chart's identity.publicKeys; also in chart_values)."
  value       = module.secrets.identity_public_keys
}

output "database_urls" {
  description = "Per-service database URLs (also in the services' Secrets)."
  value       = module.databases.database_urls
  sensitive   = true
}

output "vpc_cidr" {
  description = "The VPC range (PostgreSQL and Valkey private addresses)."
  value       = module.cluster.vpc_cidr
}

output "bucket_name" {
  description = "Assets bucket."
  value       = module.cluster.bucket_name
}

output "bucket_endpoint" {
  description = "S3 endpoint of the assets bucket."
  value       = module.cluster.bucket_endpoint
}

output "bootstrap_admin_password" {
  description = "Password of the bootstrap administrator (with bootstrap_admin_email)."
  value       = module.secrets.bootstrap_admin_password
  sensitive   = true
}
