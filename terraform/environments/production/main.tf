# Production: a regional, private GKE cluster with highly available Cloud SQL.

module "cluster" {
  source = "../../modules/gke"

  project_id                 = var.project_id
  name                       = "marquee-production"
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
}
