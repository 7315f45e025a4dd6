# Staging on DigitalOcean: a small DOKS cluster, single-node managed PostgreSQL and
# Valkey, RabbitMQ on the cluster (Cluster Operator), Spaces with a bucket-scoped key,
# and the services' Secrets written by Terraform (DigitalOcean has no secret manager).

locals {
  services = ["gateway", "auth", "content", "tagging", "billing", "campaign"]
}

module "cluster" {
  source = "../../modules/doks"

  name             = "marquee-staging"
  region           = var.region
  vpc_cidr         = "10.30.0.0/16"
  ha_control_plane = false
  bucket_name      = var.bucket_name
  admin_cidrs      = var.admin_cidrs
  tags             = ["env:staging"]

  system_pool = {
    size      = "s-2vcpu-4gb"
    min_nodes = 1
    max_nodes = 2
  }

  node_pools = {
    services = {
      size      = "s-4vcpu-8gb"
      min_nodes = 1
      max_nodes = 3
      labels    = { "marquee.dev/pool" = "services" }
    }
  }

  postgres = {
    size       = "db-s-1vcpu-2gb"
    node_count = 1
    version    = "18"
  }

  valkey = {
    size       = "db-s-1vcpu-1gb"
    node_count = 1
  }
}

module "databases" {
  source = "../../modules/databases"

  services = ["auth", "content", "tagging", "billing", "campaign"]
  host     = module.cluster.postgres_private_host
  port     = module.cluster.postgres_port
}

module "platform" {
  source = "../../modules/platform"

  services       = local.services
  secret_backend = "kubernetes"

  rabbitmq = {
    replicas      = 1
    cpu           = "1"
    memory        = "2Gi"
    storage_gb    = 10
    storage_class = "do-block-storage"
  }
}

module "secrets" {
  source = "../../modules/service-secrets"

  services              = local.services
  database_urls         = module.databases.database_urls
  amqp_url              = module.platform.amqp_url
  redis_url             = module.cluster.redis_url
  object_store          = module.cluster.object_store
  kek_provider          = "local"
  bootstrap_admin_email = var.bootstrap_admin_email
  extra_secrets         = var.extra_secrets
}

module "kubernetes_secrets" {
  source = "../../modules/kubernetes-secrets"

  namespace       = module.platform.namespace
  services        = local.services
  service_secrets = module.secrets.secrets
}

locals {
  destinations = merge(module.cluster.network_policy_destinations, { rabbitmq = module.platform.rabbitmq_destination })
}
