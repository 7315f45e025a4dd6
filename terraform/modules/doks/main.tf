# A DigitalOcean Kubernetes (DOKS) cluster for Marquee: VPC, cluster with an autoscaled
# system pool plus service pools, managed PostgreSQL reachable only from the cluster,
# and a private, versioned Spaces bucket for content assets.

locals {
  tags = distinct(concat(["marquee", var.name], var.tags))
}

data "digitalocean_kubernetes_versions" "this" {
  version_prefix = var.kubernetes_version_prefix
}

resource "digitalocean_vpc" "this" {
  name     = "${var.name}-vpc"
  region   = var.region
  ip_range = var.vpc_cidr
}

resource "digitalocean_kubernetes_cluster" "this" {
  name          = var.name
  region        = var.region
  version       = data.digitalocean_kubernetes_versions.this.latest_version
  vpc_uuid      = digitalocean_vpc.this.id
  ha            = var.ha_control_plane
  auto_upgrade  = true
  surge_upgrade = true
  tags          = local.tags

  maintenance_policy {
    day        = "sunday"
    start_time = "03:00"
  }

  node_pool {
    name       = "${var.name}-system"
    size       = var.system_pool.size
    auto_scale = true
    min_nodes  = var.system_pool.min_nodes
    max_nodes  = var.system_pool.max_nodes
    labels     = { "marquee.dev/pool" = "system" }
    tags       = local.tags
  }

  lifecycle {
    # The autoscaler owns the node count.
    ignore_changes = [node_pool[0].node_count]
  }
}

resource "digitalocean_kubernetes_node_pool" "this" {
  for_each = var.node_pools

  cluster_id = digitalocean_kubernetes_cluster.this.id
  name       = "${var.name}-${each.key}"
  size       = each.value.size
  auto_scale = true
  min_nodes  = each.value.min_nodes
  max_nodes  = each.value.max_nodes
  labels     = each.value.labels
  tags       = local.tags

  dynamic "taint" {
    for_each = each.value.taints
    content {
      key    = taint.value.key
      value  = taint.value.value
      effect = taint.value.effect
    }
  }

  lifecycle {
    ignore_changes = [node_count]
  }
}

resource "digitalocean_database_cluster" "postgres" {
  name                 = "${var.name}-pg"
  engine               = "pg"
  version              = var.postgres.version
  size                 = var.postgres.size
  region               = var.region
  node_count           = var.postgres.node_count
  private_network_uuid = digitalocean_vpc.this.id
  tags                 = local.tags

  maintenance_window {
    day  = "sunday"
    hour = "02:00:00"
  }
}

# Only the Kubernetes cluster may connect (trusted sources).
resource "digitalocean_database_firewall" "postgres" {
  cluster_id = digitalocean_database_cluster.postgres.id

  rule {
    type  = "k8s"
    value = digitalocean_kubernetes_cluster.this.id
  }
}

resource "digitalocean_database_db" "service" {
  for_each = toset(var.databases)

  cluster_id = digitalocean_database_cluster.postgres.id
  name       = each.key
}

resource "digitalocean_database_user" "service" {
  for_each = toset(var.databases)

  cluster_id = digitalocean_database_cluster.postgres.id
  name       = each.key
}

resource "digitalocean_spaces_bucket" "assets" {
  name   = var.bucket_name
  region = var.region
  acl    = "private"

  versioning {
    enabled = true
  }

  lifecycle_rule {
    id      = "expire-noncurrent-versions"
    enabled = true

    noncurrent_version_expiration {
      days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload_days = 7
  }

  lifecycle {
    prevent_destroy = true
  }
}
