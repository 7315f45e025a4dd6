# Run once per DigitalOcean team, before any environment: creates the versioned Spaces
# bucket that holds Terraform state (the environments use the S3 backend against it).
# Its own state is local; keep it, or migrate it into the bucket afterwards.

terraform {
  required_version = ">= 1.10"

  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.50"
    }
  }
}

variable "region" {
  description = "Spaces region of the state bucket."
  type        = string
  default     = "fra1"
}

variable "bucket_name" {
  description = "Globally unique name of the state bucket."
  type        = string
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
