# Run once per Google Cloud project, before any environment: creates the versioned
# bucket that holds Terraform state (the "gcs" backend locks natively). Its own state is
# local; keep it, or migrate it into the bucket afterwards (docs/deploy.md).

terraform {
  required_version = ">= 1.10"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
  }
}

variable "project_id" {
  description = "Google Cloud project that holds the state bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID (6-30 lowercase letters, digits or dashes)."
  }
}

variable "region" {
  description = "Location of the state bucket."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1."
  }
}

variable "bucket_name" {
  description = "Globally unique name of the state bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{1,57}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-59 lowercase letters, digits, dashes or underscores (the log bucket adds -logs)."
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

resource "google_storage_bucket" "state_logs" {
  #checkov:skip=CKV_GCP_62:This is the access-log sink itself; logging it into itself would loop.
  name                        = "${var.bucket_name}-logs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = 365
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket" "state" {
  name                        = var.bucket_name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  logging {
    log_bucket = google_storage_bucket.state_logs.name
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 50
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

output "state_bucket" {
  description = "Put this name in the environments' backend \"gcs\" block."
  value       = google_storage_bucket.state.name
}
