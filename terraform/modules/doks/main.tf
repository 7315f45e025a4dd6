# A DigitalOcean Kubernetes (DOKS) cluster for Marquee: VPC, cluster with an autoscaled
# system pool plus service pools, managed PostgreSQL and managed Valkey reachable only
# from the cluster (and, for PostgreSQL, from Terraform), and a private, versioned
# Spaces bucket for content assets with an access key scoped to it.

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

# Trusted sources: the Kubernetes cluster, and the addresses Terraform applies from (its
# postgresql provider creates the services' databases and roles as doadmin).
resource "digitalocean_database_firewall" "postgres" {
  cluster_id = digitalocean_database_cluster.postgres.id

  rule {
    type  = "k8s"
    value = digitalocean_kubernetes_cluster.this.id
  }

  dynamic "rule" {
    for_each = var.admin_cidrs
    content {
      type  = "ip_addr"
      value = rule.value
    }
  }
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

# The content service's key: read and write on the assets bucket only.
resource "digitalocean_spaces_key" "content" {
  name = "${var.name}-content"

  grant {
    bucket     = digitalocean_spaces_bucket.assets.name
    permission = "readwrite"
  }
}

# Managed Valkey (Redis-compatible) for the gateway's rate limits: TLS only (rediss://),
# password auth, private network, trusted source: the cluster.
resource "digitalocean_database_cluster" "valkey" {
  name                 = "${var.name}-valkey"
  engine               = "valkey"
  version              = var.valkey.version
  size                 = var.valkey.size
  region               = var.region
  node_count           = var.valkey.node_count
  private_network_uuid = digitalocean_vpc.this.id
  eviction_policy      = "volatile_lru"
  tags                 = local.tags

  maintenance_window {
    day  = "sunday"
    hour = "02:30:00"
  }
}

resource "digitalocean_database_firewall" "valkey" {
  cluster_id = digitalocean_database_cluster.valkey.id

  rule {
    type  = "k8s"
    value = digitalocean_kubernetes_cluster.this.id
  }
}
