# Staging: a small DigitalOcean Kubernetes cluster with a single-node PostgreSQL.

module "cluster" {
  source = "../../modules/doks"

  name             = "marquee-staging"
  region           = var.region
  vpc_cidr         = "10.30.0.0/16"
  ha_control_plane = false
  bucket_name      = var.bucket_name
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
}
