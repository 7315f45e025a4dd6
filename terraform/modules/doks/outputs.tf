output "cluster_id" {
  description = "DOKS cluster ID (doctl kubernetes cluster kubeconfig save <id>)."
  value       = digitalocean_kubernetes_cluster.this.id
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = digitalocean_kubernetes_cluster.this.endpoint
}

output "kubeconfig" {
  description = "Raw kubeconfig of the cluster (short-lived token)."
  value       = digitalocean_kubernetes_cluster.this.kube_config[0].raw_config
  sensitive   = true
}

output "vpc_cidr" {
  description = "The VPC range: set networkPolicy.destinations.postgres to it."
  value       = digitalocean_vpc.this.ip_range
}

output "postgres_private_host" {
  description = "Private host name of the PostgreSQL cluster."
  value       = digitalocean_database_cluster.postgres.private_host
}

output "database_urls" {
  description = "postgres:// URL per service database, for the services' Secrets (MARQUEE_<SVC>_DATABASE_URL)."
  value = {
    for db in var.databases : db => format(
      "postgres://%s:%s@%s:%d/%s?sslmode=require",
      digitalocean_database_user.service[db].name,
      digitalocean_database_user.service[db].password,
      digitalocean_database_cluster.postgres.private_host,
      digitalocean_database_cluster.postgres.port,
      digitalocean_database_db.service[db].name,
    )
  }
  sensitive = true
}

output "bucket_name" {
  description = "Assets bucket (MARQUEE_OBJECT_STORE_URL=s3://<bucket>/content)."
  value       = digitalocean_spaces_bucket.assets.name
}

output "bucket_endpoint" {
  description = "S3-compatible endpoint of the bucket's region."
  value       = "https://${var.region}.digitaloceanspaces.com"
}
