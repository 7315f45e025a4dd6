output "cluster_name" {
  description = "gcloud container clusters get-credentials <cluster_name> --region <region>"
  value       = module.cluster.cluster_name
}

output "namespace" {
  description = "Namespace Terraform created for the Helm release (its Secrets are there)."
  value       = module.platform.namespace
}

output "postgres_private_cidr" {
  description = "Range peered to Google services: Cloud SQL and Memorystore addresses (networkPolicy.destinations.postgres and .redis; both are in chart_values)."
  value       = module.cluster.private_services_cidr
}

output "network_policy_destinations" {
  description = "networkPolicy.destinations for the chart: postgres, redis, objectStore, rabbitmq."
  value       = local.destinations
}

output "chart_values" {
  description = "Values file for the chart (terraform output -json chart_values > terraform-values.json; helm … -f values-production.yaml -f terraform-values.json)."
  value = {
    networkPolicy = { destinations = local.destinations }
    identity      = { publicKeys = module.secrets.identity_public_keys }
    services = {
      gateway = {
        env = { MARQUEE_GATEWAY_TRUSTED_PROXIES = module.cluster.pods_cidr }
      }
      auth = {
        env            = { MARQUEE_AUTH_KEK__GCP_KMS_KEY_NAME = module.cluster.kms_key_names["auth"] }
        serviceAccount = { annotations = { "iam.gke.io/gcp-service-account" = module.cluster.service_accounts["auth"] } }
      }
      campaign = {
        env            = { MARQUEE_CAMPAIGN_KEK__GCP_KMS_KEY_NAME = module.cluster.kms_key_names["campaign"] }
        serviceAccount = { annotations = { "iam.gke.io/gcp-service-account" = module.cluster.service_accounts["campaign"] } }
      }
      content = {
        env            = { MARQUEE_OBJECT_STORE_URL = "s3://${module.cluster.bucket_name}/content" }
        serviceAccount = { annotations = { "iam.gke.io/gcp-service-account" = module.cluster.service_accounts["content"] } }
      }
    }
  }
}

output "identity_public_keys" {
  description = "Ed25519 public key per service (the chart's identity.publicKeys; also in chart_values)."
  value       = module.secrets.identity_public_keys
}

output "database_urls" {
  description = "Per-service database URLs (also in the services' secrets)."
  value       = module.databases.database_urls
  sensitive   = true
}

output "secret_ids" {
  description = "Secret Manager secret per service, synced into the Secret <release>-<service> by External Secrets."
  value       = module.gcp_secrets.secret_ids
}

output "redis_ca_certificate" {
  description = "PEM CA of Memorystore's TLS certificate (clients of rediss:// must trust it)."
  value       = module.cluster.redis_ca_certificate
}

output "bucket_name" {
  description = "Assets bucket."
  value       = module.cluster.bucket_name
}

output "service_accounts" {
  description = "Google service accounts bound through Workload Identity (content, auth, campaign, eso)."
  value       = module.cluster.service_accounts
}

output "bootstrap_admin_password" {
  description = "Password of the bootstrap administrator (with bootstrap_admin_email)."
  value       = module.secrets.bootstrap_admin_password
  sensitive   = true
}
