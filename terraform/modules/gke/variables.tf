variable "project_id" {
  description = "Google Cloud project that holds the environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID (6-30 lowercase letters, digits or dashes)."
  }
}

variable "name" {
  description = "Name prefix of every resource (e.g. marquee-production)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.name))
    error_message = "name must be 3-21 lowercase letters, digits or dashes, starting with a letter (service account IDs add up to 9 characters and allow 30)."
  }
}

variable "region" {
  description = "Region of the regional cluster, Cloud SQL, Memorystore, KMS keys, secrets and bucket (e.g. europe-west1)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1."
  }
}

variable "project_services" {
  description = "Google APIs enabled in the project before anything else is created."
  type        = list(string)
  default = [
    "artifactregistry.googleapis.com",
    "cloudkms.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "redis.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
  ]

  validation {
    condition     = alltrue([for s in var.project_services : endswith(s, ".googleapis.com")])
    error_message = "project_services must be API names such as redis.googleapis.com."
  }

  validation {
    condition = length(setsubtract(
      ["cloudkms.googleapis.com", "compute.googleapis.com", "container.googleapis.com", "redis.googleapis.com",
      "secretmanager.googleapis.com", "servicenetworking.googleapis.com", "sqladmin.googleapis.com"],
      var.project_services,
    )) == 0
    error_message = "project_services must include compute, container, sqladmin, redis, servicenetworking, secretmanager and cloudkms."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the node subnet."
  type        = string
  default     = "10.10.0.0/20"

  validation {
    condition     = try(can(cidrhost(var.subnet_cidr, 0)) && tonumber(split("/", var.subnet_cidr)[1]) <= 24, false)
    error_message = "subnet_cidr must be an IPv4 CIDR of /24 or larger."
  }
}

variable "pods_cidr" {
  description = "Secondary range for pods (VPC-native); also the gateway's trusted proxy range (the ingress controller's pods)."
  type        = string
  default     = "10.20.0.0/14"

  validation {
    condition     = try(can(cidrhost(var.pods_cidr, 0)) && tonumber(split("/", var.pods_cidr)[1]) <= 21, false)
    error_message = "pods_cidr must be an IPv4 CIDR of /21 or larger."
  }
}

variable "services_cidr" {
  description = "Secondary range for Kubernetes services."
  type        = string
  default     = "10.24.0.0/20"

  validation {
    condition     = try(can(cidrhost(var.services_cidr, 0)) && tonumber(split("/", var.services_cidr)[1]) <= 24, false)
    error_message = "services_cidr must be an IPv4 CIDR of /24 or larger."
  }
}

variable "master_cidr" {
  description = "/28 range of the private control plane."
  type        = string
  default     = "172.16.0.0/28"

  validation {
    condition     = can(cidrhost(var.master_cidr, 0)) && endswith(var.master_cidr, "/28")
    error_message = "master_cidr must be an IPv4 /28."
  }
}

variable "private_services_prefix_length" {
  description = "Prefix length of the range peered to Google services (Cloud SQL and Memorystore private addresses)."
  type        = number
  default     = 16

  validation {
    condition     = var.private_services_prefix_length >= 8 && var.private_services_prefix_length <= 24
    error_message = "private_services_prefix_length must be 8-24 (Google needs at least a /24)."
  }
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the Kubernetes API (CI runners, VPN)."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  default = []

  validation {
    condition     = alltrue([for n in var.master_authorized_networks : can(cidrhost(n.cidr_block, 0)) && n.cidr_block != "0.0.0.0/0"])
    error_message = "master_authorized_networks must be valid CIDR blocks, never 0.0.0.0/0."
  }
}

variable "release_channel" {
  description = "GKE release channel: RAPID, REGULAR or STABLE."
  type        = string
  default     = "REGULAR"

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE"], var.release_channel)
    error_message = "release_channel must be RAPID, REGULAR or STABLE."
  }
}

variable "node_pools" {
  description = "Autoscaled node pools by name."
  type = map(object({
    machine_type = string
    min_nodes    = number
    max_nodes    = number
    disk_size_gb = optional(number, 50)
    spot         = optional(bool, false)
    labels       = optional(map(string), {})
    taints = optional(list(object({
      key    = string
      value  = string
      effect = string
    })), [])
  }))
  default = {
    system = {
      machine_type = "e2-standard-2"
      min_nodes    = 1
      max_nodes    = 3
      labels       = { "marquee.dev/pool" = "system" }
    }
    services = {
      machine_type = "e2-standard-4"
      min_nodes    = 1
      max_nodes    = 6
      labels       = { "marquee.dev/pool" = "services" }
    }
  }

  validation {
    condition = alltrue([for k, p in var.node_pools :
      can(regex("^[a-z][a-z0-9-]{0,38}$", k)) && can(regex("^[a-z][a-z0-9]*-[a-z0-9-]+$", p.machine_type)) &&
    p.min_nodes >= 0 && p.max_nodes >= 1 && p.min_nodes <= p.max_nodes && p.max_nodes <= 100 && p.disk_size_gb >= 20])
    error_message = "each node pool needs a lowercase name, a machine type such as e2-standard-4, 0 <= min_nodes <= max_nodes <= 100 (max_nodes >= 1) and disk_size_gb >= 20."
  }

  validation {
    condition     = alltrue(flatten([for p in values(var.node_pools) : [for t in p.taints : contains(["NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE"], t.effect)]]))
    error_message = "taint effects must be NO_SCHEDULE, PREFER_NO_SCHEDULE or NO_EXECUTE."
  }
}

variable "postgres" {
  description = "Cloud SQL for PostgreSQL: machine tier, high availability, disk size and retained backups."
  type = object({
    tier              = string
    high_availability = bool
    disk_size_gb      = number
    retained_backups  = number
  })
  default = {
    tier              = "db-custom-2-7680"
    high_availability = false
    disk_size_gb      = 20
    retained_backups  = 14
  }

  validation {
    condition     = can(regex("^db-(custom-[0-9]+-[0-9]+|perf-optimized-N-[0-9]+|g1-small|f1-micro)$", var.postgres.tier))
    error_message = "postgres.tier must be a Cloud SQL tier such as db-custom-2-7680."
  }

  validation {
    condition     = var.postgres.disk_size_gb >= 10 && var.postgres.disk_size_gb <= 65536 && var.postgres.retained_backups >= 1 && var.postgres.retained_backups <= 365
    error_message = "postgres.disk_size_gb must be 10-65536 and postgres.retained_backups 1-365."
  }
}

variable "redis" {
  description = "Memorystore for Redis: tier (BASIC or STANDARD_HA), memory in GB and version."
  type = object({
    tier           = string
    memory_size_gb = number
    version        = optional(string, "REDIS_7_2")
  })
  default = {
    tier           = "BASIC"
    memory_size_gb = 1
  }

  validation {
    condition     = contains(["BASIC", "STANDARD_HA"], var.redis.tier)
    error_message = "redis.tier must be BASIC or STANDARD_HA."
  }

  validation {
    condition     = var.redis.memory_size_gb >= 1 && var.redis.memory_size_gb <= 300
    error_message = "redis.memory_size_gb must be 1-300."
  }

  validation {
    condition     = can(regex("^REDIS_[0-9]+(_[0-9]+)?$", var.redis.version))
    error_message = "redis.version must look like REDIS_7_2."
  }
}

variable "bucket_name" {
  description = "GCS bucket for content assets (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{1,57}[a-z0-9]$", var.bucket_name)) && !startswith(var.bucket_name, "goog")
    error_message = "bucket_name must be 3-59 lowercase letters, digits, dashes or underscores (the access-log bucket adds -logs), not starting with goog."
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

variable "kubernetes_namespace" {
  description = "Namespace the Helm release runs in (for Workload Identity bindings)."
  type        = string
  default     = "marquee"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.kubernetes_namespace))
    error_message = "kubernetes_namespace must be a DNS label."
  }
}

variable "release_name" {
  description = "Helm release name: a service's Kubernetes service account is <release>-<service>."
  type        = string
  default     = "marquee"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$", var.release_name))
    error_message = "release_name must be a DNS label of at most 42 characters."
  }
}

variable "labels" {
  description = "Labels added to every labelled resource."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "label keys must be lowercase and start with a letter; values lowercase letters, digits, dashes or underscores (63 characters at most)."
  }
}
