variable "name" {
  description = "Name prefix of every resource (e.g. marquee-staging)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  description = "DigitalOcean region of the cluster, databases and bucket (e.g. fra1)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{3}[0-9]$", var.region))
    error_message = "region must be a DigitalOcean region slug such as fra1 or nyc3."
  }
}

variable "vpc_cidr" {
  description = "Private network range of the VPC; the databases' private addresses are in it (output network_policy_destinations)."
  type        = string
  default     = "10.30.0.0/16"

  validation {
    condition = try(can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24 &&
    can(regex("^(10\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|192\\.168\\.)", var.vpc_cidr)), false)
    error_message = "vpc_cidr must be a private IPv4 range (RFC 1918) between /16 and /24."
  }
}

variable "kubernetes_version_prefix" {
  description = "Kubernetes minor version to track, e.g. \"1.32.\"; patch upgrades are automatic."
  type        = string
  default     = "1.32."

  validation {
    condition     = can(regex("^1\\.[0-9]+\\.$", var.kubernetes_version_prefix))
    error_message = "kubernetes_version_prefix must look like 1.32. (with the trailing dot)."
  }
}

variable "ha_control_plane" {
  description = "Highly available control plane (recommended for production)."
  type        = bool
  default     = false
}

variable "system_pool" {
  description = "The cluster's default node pool (ingress controller, monitoring, operators)."
  type = object({
    size      = string
    min_nodes = number
    max_nodes = number
  })
  default = {
    size      = "s-2vcpu-4gb"
    min_nodes = 2
    max_nodes = 3
  }

  validation {
    condition     = can(regex("^[a-z0-9]+(-[a-z0-9]+)+$", var.system_pool.size)) && var.system_pool.min_nodes >= 1 && var.system_pool.min_nodes <= var.system_pool.max_nodes && var.system_pool.max_nodes <= 50
    error_message = "system_pool needs a droplet size slug (e.g. s-2vcpu-4gb) and 1 <= min_nodes <= max_nodes <= 50."
  }
}

variable "node_pools" {
  description = "Additional autoscaled node pools for Marquee's services, by name."
  type = map(object({
    size      = string
    min_nodes = number
    max_nodes = number
    labels    = optional(map(string), {})
    taints = optional(list(object({
      key    = string
      value  = string
      effect = string
    })), [])
  }))
  default = {
    services = {
      size      = "s-4vcpu-8gb"
      min_nodes = 2
      max_nodes = 6
      labels    = { "marquee.dev/pool" = "services" }
    }
  }

  validation {
    condition = alltrue([for k, p in var.node_pools :
      can(regex("^[a-z][a-z0-9-]{0,30}$", k)) && can(regex("^[a-z0-9]+(-[a-z0-9]+)+$", p.size)) &&
    p.min_nodes >= 0 && p.max_nodes >= 1 && p.min_nodes <= p.max_nodes && p.max_nodes <= 100])
    error_message = "each node pool needs a lowercase name, a droplet size slug and 0 <= min_nodes <= max_nodes <= 100 (max_nodes >= 1)."
  }

  validation {
    condition     = alltrue(flatten([for p in values(var.node_pools) : [for t in p.taints : contains(["NoSchedule", "PreferNoSchedule", "NoExecute"], t.effect)]]))
    error_message = "taint effects must be NoSchedule, PreferNoSchedule or NoExecute."
  }
}

variable "postgres" {
  description = "Managed PostgreSQL cluster: size slug, node count (2+ adds standbys) and major version."
  type = object({
    size       = string
    node_count = number
    version    = string
  })
  default = {
    size       = "db-s-1vcpu-2gb"
    node_count = 1
    version    = "18"
  }

  validation {
    condition     = can(regex("^(db|gd|so1_5|m)-[a-z0-9-]+$", var.postgres.size)) && var.postgres.node_count >= 1 && var.postgres.node_count <= 3
    error_message = "postgres.size must be a database size slug (e.g. db-s-1vcpu-2gb) and postgres.node_count 1-3."
  }

  validation {
    condition     = can(regex("^[0-9]+$", var.postgres.version)) && tonumber(var.postgres.version) >= 15
    error_message = "postgres.version must be a major version, 15 or newer."
  }
}

variable "valkey" {
  description = "Managed Valkey cluster (the gateway's rate limits): size slug, node count (2 adds a standby) and major version."
  type = object({
    size       = string
    node_count = number
    version    = optional(string, "8")
  })
  default = {
    size       = "db-s-1vcpu-1gb"
    node_count = 1
  }

  validation {
    condition     = can(regex("^(db|gd|m)-[a-z0-9-]+$", var.valkey.size)) && var.valkey.node_count >= 1 && var.valkey.node_count <= 2
    error_message = "valkey.size must be a database size slug (e.g. db-s-1vcpu-1gb) and valkey.node_count 1-2."
  }

  validation {
    condition     = can(regex("^[0-9]+$", var.valkey.version))
    error_message = "valkey.version must be a major version such as 8."
  }
}

variable "admin_cidrs" {
  description = "Addresses Terraform applies from (CI runner egress, VPN), added to the PostgreSQL trusted sources so its postgresql provider can create databases and roles."
  type        = list(string)
  default     = []

  validation {
    condition     = try(alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0)) && tonumber(split("/", c)[1]) >= 16]), false)
    error_message = "admin_cidrs must be IPv4 CIDRs of /16 or narrower."
  }
}

variable "bucket_name" {
  description = "Spaces bucket for content assets (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits or dashes."
  }
}

variable "noncurrent_version_days" {
  description = "Days to keep overwritten/deleted object versions in the assets bucket."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1 && var.noncurrent_version_days <= 3650
    error_message = "noncurrent_version_days must be 1-3650."
  }
}

variable "tags" {
  description = "Tags added to every taggable resource."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.tags : can(regex("^[A-Za-z0-9:_.-]{1,255}$", t))])
    error_message = "tags may hold letters, digits, colons, dashes, dots and underscores."
  }
}
