# Production on GKE: a regional private cluster, highly available Cloud SQL and
# Memorystore, RabbitMQ on the cluster (Cluster Operator), the services' secrets in
# Secret Manager synced by the External Secrets Operator, KMS-sealed keys.

locals {
  name     = "marquee-production"
  services = ["gateway", "auth", "content", "tagging", "billing", "campaign"]
  # Known before anything exists, so the ExternalSecrets need no other module's output.
  secret_ids = { for s in local.services : s => "${local.name}-${s}" }
}

module "cluster" {
  source = "../../modules/gke"

  project_id                 = var.project_id
  name                       = local.name
  region                     = var.region
  bucket_name                = var.bucket_name
  master_authorized_networks = var.master_authorized_networks
  release_channel            = "STABLE"
  labels                     = { env = "production" }

  node_pools = {
    system = {
      machine_type = "e2-standard-2"
      min_nodes    = 1
      max_nodes    = 3
      labels       = { "marquee.dev/pool" = "system" }
    }
    services = {
      machine_type = "e2-standard-8"
      min_nodes    = 1
      max_nodes    = 8
      labels       = { "marquee.dev/pool" = "services" }
    }
  }

  postgres = {
    tier              = "db-custom-4-15360"
    high_availability = true
    disk_size_gb      = 100
    retained_backups  = 30
  }

  redis = {
    tier           = "STANDARD_HA"
    memory_size_gb = 1
  }
}

module "databases" {
  source = "../../modules/databases"

  services = ["auth", "content", "tagging", "billing", "campaign"]
  host     = module.cluster.postgres_private_ip
  port     = 5432
}

module "platform" {
  source = "../../modules/platform"

  services       = local.services
  secret_backend = "gcp-secret-manager"
  gcp_project_id = var.project_id
  gcp_secret_ids = local.secret_ids

  external_secrets_gcp_service_account = module.cluster.service_accounts["eso"]

  rabbitmq = {
    replicas      = 3
    cpu           = "2"
    memory        = "4Gi"
    storage_gb    = 50
    storage_class = "premium-rwo"
  }
}

module "secrets" {
  source = "../../modules/service-secrets"

  services              = local.services
  database_urls         = module.databases.database_urls
  amqp_url              = module.platform.amqp_url
  redis_url             = module.cluster.redis_url
  redis_ca_certificate  = module.cluster.redis_ca_certificate
  object_store          = module.cluster.object_store
  kek_provider          = "gcp-kms"
  bootstrap_admin_email = var.bootstrap_admin_email
  extra_secrets         = var.extra_secrets
}

module "gcp_secrets" {
  source = "../../modules/gcp-secrets"

  project_id             = var.project_id
  region                 = var.region
  secret_ids             = local.secret_ids
  service_secrets        = module.secrets.secrets
  reader_service_account = module.cluster.service_accounts["eso"]
  labels                 = { env = "production" }

  # The Secret Manager API is enabled by module.cluster.
  depends_on = [module.cluster]
}

locals {
  destinations = merge(module.cluster.network_policy_destinations, { rabbitmq = module.platform.rabbitmq_destination })
}
