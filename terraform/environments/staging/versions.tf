terraform {
  required_version = ">= 1.10"

  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.50"
    }
  }

  # Remote state in the Spaces bucket made by terraform/bootstrap/spaces (S3-compatible).
  # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY set to a Spaces key.
  backend "s3" {
    bucket = "marquee-tfstate"
    key    = "staging/terraform.tfstate"
    # The S3 backend wants a region; Spaces ignores it.
    region = "us-east-1"
    endpoints = {
      s3 = "https://fra1.digitaloceanspaces.com"
    }
    # Lock file next to the state (conditional writes); applies are also serialized by
    # the workflows' concurrency groups.
    use_lockfile                = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
    skip_s3_checksum            = true
  }
}

# Credentials: DIGITALOCEAN_TOKEN, SPACES_ACCESS_KEY_ID, SPACES_SECRET_ACCESS_KEY.
provider "digitalocean" {}
