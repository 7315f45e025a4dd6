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

output "postgres_private_cidr" {
  description = "Range peered to Google services (Cloud SQL private IP): set networkPolicy.destinations.postgres to it."
  value       = "${google_compute_global_address.private_services.address}/${google_compute_global_address.private_services.prefix_length}"
}

output "database_urls" {
  description = "postgres:// URL per service database, for the services' Secrets (MARQUEE_<SVC>_DATABASE_URL)."
  value = {
    for db in var.databases : db => format(
      "postgres://%s:%s@%s:5432/%s?sslmode=require",
      google_sql_user.service[db].name,
      random_password.database[db].result,
      google_sql_database_instance.postgres.private_ip_address,
      google_sql_database.service[db].name,
    )
  }
  sensitive = true
}

output "bucket_name" {
  description = "Assets bucket (MARQUEE_OBJECT_STORE_URL=s3://<bucket>/content)."
  value       = google_storage_bucket.assets.name
}

output "content_service_account" {
  description = "Annotate the content ServiceAccount with iam.gke.io/gcp-service-account=<this>."
  value       = google_service_account.content.email
}

output "content_hmac_access_id" {
  description = "HMAC access key for the S3-compatible endpoint https://storage.googleapis.com (AWS_ACCESS_KEY_ID)."
  value       = google_storage_hmac_key.content.access_id
  sensitive   = true
}

output "content_hmac_secret" {
  description = "HMAC secret (AWS_SECRET_ACCESS_KEY)."
  value       = google_storage_hmac_key.content.secret
  sensitive   = true
}
