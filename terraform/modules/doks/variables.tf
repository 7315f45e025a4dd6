variable "name" {
  description = "Name prefix of every resource (e.g. marquee-staging)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  description = "DigitalOcean region of the cluster, database and bucket (e.g. fra1)."
  type        = string
}

variable "vpc_cidr" {
  description = "Private network range of the VPC; the chart's networkPolicy.destinations.postgres uses it."
  type        = string
  default     = "10.30.0.0/16"
}

variable "kubernetes_version_prefix" {
  description = "Kubernetes minor version to track, e.g. \"1.32.\"; patch upgrades are automatic."
  type        = string
  default     = "1.32."
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
}

variable "databases" {
  description = "One database (and user) per service that owns data."
  type        = list(string)
  default     = ["auth", "content", "tagging", "billing", "campaign"]
}

variable "bucket_name" {
  description = "Spaces bucket for content assets (globally unique)."
  type        = string
}

variable "noncurrent_version_days" {
  description = "Days to keep overwritten/deleted object versions in the assets bucket."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every taggable resource."
  type        = list(string)
  default     = []
}
