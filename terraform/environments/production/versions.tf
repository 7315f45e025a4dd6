terraform {
  required_version = ">= 1.10"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
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

  # Remote state in the bucket made by terraform/bootstrap/gcs (locks natively).
  backend "gcs" {
    bucket = "marquee-tfstate"
    prefix = "production"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

data "google_client_config" "this" {}

provider "kubernetes" {
  host                   = "https://${module.cluster.cluster_endpoint}"
  token                  = data.google_client_config.this.access_token
  cluster_ca_certificate = base64decode(module.cluster.cluster_ca_certificate)
}

provider "helm" {
  kubernetes = {
    host                   = "https://${module.cluster.cluster_endpoint}"
    token                  = data.google_client_config.this.access_token
    cluster_ca_certificate = base64decode(module.cluster.cluster_ca_certificate)
  }
}

# Cloud SQL has a private IP only: apply from inside the VPC, or through
# `cloud-sql-proxy --private-ip` with -var postgres_admin_host=127.0.0.1 (docs/deploy.md).
provider "postgresql" {
  host            = var.postgres_admin_host != "" ? var.postgres_admin_host : module.cluster.postgres_private_ip
  port            = var.postgres_admin_port
  database        = "postgres"
  username        = module.cluster.postgres_admin_user
  password        = module.cluster.postgres_admin_password
  sslmode         = var.postgres_admin_host == "127.0.0.1" ? "disable" : "require"
  superuser       = false
  connect_timeout = 15
}
