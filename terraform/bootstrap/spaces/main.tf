# Run once per DigitalOcean team, before any environment: creates the versioned Spaces
# bucket that holds Terraform state (the environments use the S3 backend against it).
# Its own state is local; keep it, or migrate it into the bucket afterwards.

terraform {
  required_version = ">= 1.10"

  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.79"
    }
  }
}

variable "region" {
  description = "Spaces region of the state bucket."
  type        = string
  default     = "fra1"

  validation {
    condition     = can(regex("^[a-z]{3}[0-9]$", var.region))
    error_message = "region must be a DigitalOcean region slug such as fra1."
  }
}

variable "bucket_name" {
  description = "Globally unique name of the state bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits or dashes."
  }
}

# Credentials: DIGITALOCEAN_TOKEN, SPACES_ACCESS_KEY_ID, SPACES_SECRET_ACCESS_KEY.
provider "digitalocean" {}

resource "digitalocean_spaces_bucket" "state" {
  name   = var.bucket_name
  region = var.region
  acl    = "private"

  versioning {
    enabled = true
  }

  lifecycle {
    prevent_destroy = true
  }
}

output "state_bucket" {
  description = "Put this name in the environments' backend \"s3\" block."
  value       = digitalocean_spaces_bucket.state.name
}

output "state_endpoint" {
  description = "S3 endpoint of the state bucket."
  value       = "https://${var.region}.digitaloceanspaces.com"
}
