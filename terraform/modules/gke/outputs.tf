output "cluster_name" {
  description = "GKE cluster name (gcloud container clusters get-credentials <name> --region <region>)."
  value       = google_container_cluster.this.name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = google_container_cluster.this.endpoint
  sensitive   = true
}

output "cluster_ca_certificate" {
  description = "Base64 CA certificate of the cluster."
  value       = google_container_cluster.this.master_auth[0].cluster_ca_certificate
  sensitive   = true
}

output "private_services_cidr" {
  description = "Range peered to Google services: Cloud SQL's and Memorystore's private addresses are in it."
  value       = "${google_compute_global_address.private_services.address}/${google_compute_global_address.private_services.prefix_length}"
}

output "postgres_private_ip" {
  description = "Private IP of the Cloud SQL instance (port 5432, TLS only)."
  value       = google_sql_database_instance.postgres.private_ip_address
}

output "postgres_admin_user" {
  description = "Built-in administrator Terraform's postgresql provider connects as (a cloudsqlsuperuser member; never given to a service)."
  value       = google_sql_user.admin.name
}

output "postgres_admin_password" {
  description = "Password of postgres_admin_user."
  value       = random_password.admin.result
  sensitive   = true
}

output "redis_url" {
  description = "rediss:// URL of Memorystore (TLS on port 6378, AUTH string as password) for MARQUEE_REDIS_URL."
  value = format(
    "rediss://:%s@%s:%d/0",
    urlencode(google_redis_instance.this.auth_string),
    google_redis_instance.this.host,
    google_redis_instance.this.port,
  )
  sensitive = true
}

output "redis_ca_certificate" {
  description = "PEM CA of Memorystore's server certificate: Redis clients must trust it (it is not a public CA)."
  value       = google_redis_instance.this.server_ca_certs[0].cert
}

output "network_policy_destinations" {
  description = "networkPolicy.destinations entries for the chart: postgres, redis (Memorystore) and objectStore (Google APIs)."
  value = {
    postgres = {
      ports = [5432]
      to    = [{ ipBlock = { cidr = "${google_compute_global_address.private_services.address}/${google_compute_global_address.private_services.prefix_length}" } }]
    }
    redis = {
      ports = [google_redis_instance.this.port]
      to    = [{ ipBlock = { cidr = "${google_compute_global_address.private_services.address}/${google_compute_global_address.private_services.prefix_length}" } }]
    }
    objectStore = {
      ports = [443]
      to = [{ ipBlock = {
        cidr   = "0.0.0.0/0"
        except = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]
      } }]
    }
  }
}

output "bucket_name" {
  description = "Assets bucket (MARQUEE_OBJECT_STORE_URL=s3://<bucket>/content)."
  value       = google_storage_bucket.assets.name
}

output "object_store" {
  description = "S3-compatible access to the assets bucket for content: HMAC key of the content service account, endpoint and signing region."
  value = {
    access_key_id     = google_storage_hmac_key.content.access_id
    secret_access_key = google_storage_hmac_key.content.secret
    endpoint          = "https://storage.googleapis.com"
    region            = "auto"
  }
  sensitive = true
}

output "service_accounts" {
  description = "Google service account per Kubernetes service account (iam.gke.io/gcp-service-account annotations): content, auth, campaign and the External Secrets controller (eso)."
  value = merge(
    { content = google_service_account.content.email },
    { for k, sa in google_service_account.workload : k => sa.email },
  )
}

output "kms_key_names" {
  description = "Cloud KMS key per service for MARQUEE_<SERVICE>_KEK__GCP_KMS_KEY_NAME (auth, campaign)."
  value       = { for k, key in google_kms_crypto_key.kek : k => key.id }
}

output "pods_cidr" {
  description = "Pod range of the cluster (the gateway's trusted proxies: the ingress controller's pods)."
  value       = var.pods_cidr
}
