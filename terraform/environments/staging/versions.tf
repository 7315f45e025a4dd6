terraform {
  required_version = ">= 1.10"

  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.79"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.1"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.38"
    }
    postgresql = {
      source  = "cyrilgdn/postgresql"
      version = "~> 1.26"
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

provider "kubernetes" {
  host                   = module.cluster.cluster_endpoint
  token                  = module.cluster.kube_token
  cluster_ca_certificate = base64decode(module.cluster.cluster_ca_certificate)
}

provider "helm" {
  kubernetes = {
    host                   = module.cluster.cluster_endpoint
    token                  = module.cluster.kube_token
    cluster_ca_certificate = base64decode(module.cluster.cluster_ca_certificate)
  }
}

# doadmin over the public host, which the database firewall opens to admin_cidrs only.
provider "postgresql" {
  host            = module.cluster.postgres_admin.host
  port            = module.cluster.postgres_admin.port
  database        = "defaultdb"
  username        = module.cluster.postgres_admin.user
  password        = module.cluster.postgres_admin.password
  sslmode         = "require"
  superuser       = false
  connect_timeout = 15
}
