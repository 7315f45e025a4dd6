variable "project_id" {
  description = "Google Cloud project of the production environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID (6-30 lowercase letters, digits or dashes)."
  }
}

variable "region" {
  description = "Region of the production environment."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1."
  }
}

variable "bucket_name" {
  description = "GCS bucket for content assets."
  type        = string
  default     = "marquee-production-assets"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{1,57}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-59 lowercase letters, digits, dashes or underscores."
  }
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the Kubernetes API (VPN, CI egress)."
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

variable "postgres_admin_host" {
  description = "Where Terraform reaches Cloud SQL as the administrator: empty for its private IP (applying from inside the VPC), 127.0.0.1 through a local cloud-sql-proxy --private-ip."
  type        = string
  default     = ""

  validation {
    condition     = var.postgres_admin_host == "" || can(regex("^[A-Za-z0-9.-]+$", var.postgres_admin_host))
    error_message = "postgres_admin_host must be empty, an IP address or a host name."
  }
}

variable "postgres_admin_port" {
  description = "Port for postgres_admin_host (5432, or the proxy's port)."
  type        = number
  default     = 5432

  validation {
    condition     = var.postgres_admin_port >= 1 && var.postgres_admin_port <= 65535
    error_message = "postgres_admin_port must be 1-65535."
  }
}

variable "bootstrap_admin_email" {
  description = "E-mail of the first Marquee administrator (password: terraform output -raw bootstrap_admin_password). Empty: none."
  type        = string
  default     = ""

  validation {
    condition     = var.bootstrap_admin_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.bootstrap_admin_email))
    error_message = "bootstrap_admin_email must be empty or an e-mail address."
  }
}

variable "extra_secrets" {
  description = "Secret keys Terraform cannot make, by service (Stripe, Gemini, Google sign-in); pass in a git-ignored *.auto.tfvars or TF_VAR_extra_secrets."
  type        = map(map(string))
  default     = {}
  sensitive   = true
}
