variable "project_id" {
  description = "Google Cloud project that holds the environment."
  type        = string
}

variable "name" {
  description = "Name prefix of every resource (e.g. marquee-production)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  description = "Region of the regional cluster, Cloud SQL instance and bucket (e.g. europe-west1)."
  type        = string
}

variable "subnet_cidr" {
  description = "Primary range of the node subnet."
  type        = string
  default     = "10.10.0.0/20"
}

variable "pods_cidr" {
  description = "Secondary range for pods (VPC-native)."
  type        = string
  default     = "10.20.0.0/14"
}

variable "services_cidr" {
  description = "Secondary range for Kubernetes services."
  type        = string
  default     = "10.24.0.0/20"
}

variable "master_cidr" {
  description = "/28 range of the private control plane."
  type        = string
  default     = "172.16.0.0/28"
}

variable "private_services_prefix_length" {
  description = "Prefix length of the range peered to Google services (Cloud SQL private IP)."
  type        = number
  default     = 16
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the Kubernetes API (CI runners, VPN)."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  default = []
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
}

variable "databases" {
  description = "One database (and user) per service that owns data."
  type        = list(string)
  default     = ["auth", "content", "tagging", "billing", "campaign"]
}

variable "bucket_name" {
  description = "GCS bucket for content assets (globally unique)."
  type        = string
}

variable "noncurrent_version_days" {
  description = "Days to keep overwritten/deleted object versions in the assets bucket."
  type        = number
  default     = 30
}

variable "kubernetes_namespace" {
  description = "Namespace the Helm release runs in (for Workload Identity bindings)."
  type        = string
  default     = "marquee"
}

variable "release_name" {
  description = "Helm release name: the content service's Kubernetes service account is <release>-content."
  type        = string
  default     = "marquee"
}

variable "labels" {
  description = "Labels added to every labelled resource."
  type        = map(string)
  default     = {}
}
