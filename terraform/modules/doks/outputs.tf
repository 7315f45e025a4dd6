output "cluster_id" {
  description = "DOKS cluster ID (doctl kubernetes cluster kubeconfig save <id>)."
  value       = digitalocean_kubernetes_cluster.this.id
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = digitalocean_kubernetes_cluster.this.endpoint
}

output "kube_token" {
  description = "Short-lived token for the Kubernetes API (refreshed on every plan)."
  value       = digitalocean_kubernetes_cluster.this.kube_config[0].token
  sensitive   = true
}

output "cluster_ca_certificate" {
  description = "Base64 CA certificate of the Kubernetes API."
  value       = digitalocean_kubernetes_cluster.this.kube_config[0].cluster_ca_certificate
  sensitive   = true
}

output "kubeconfig" {
  description = "Raw kubeconfig of the cluster (short-lived token)."
  value       = digitalocean_kubernetes_cluster.this.kube_config[0].raw_config
  sensitive   = true
}

output "pods_cidr" {
  description = "Pod network of the cluster (the gateway's trusted proxies: the ingress controller's pods)."
  value       = digitalocean_kubernetes_cluster.this.cluster_subnet
}

output "vpc_cidr" {
  description = "The VPC range: the managed databases' private addresses are in it."
  value       = digitalocean_vpc.this.ip_range
}

output "postgres_private_host" {
  description = "Private host name of the PostgreSQL cluster (what the services connect to)."
  value       = digitalocean_database_cluster.postgres.private_host
}

output "postgres_port" {
  description = "PostgreSQL port (DigitalOcean: 25060)."
  value       = digitalocean_database_cluster.postgres.port
}

output "postgres_admin" {
  description = "Public host, port, user (doadmin) and password Terraform's postgresql provider connects with (firewalled to admin_cidrs)."
  value = {
    host     = digitalocean_database_cluster.postgres.host
    port     = digitalocean_database_cluster.postgres.port
    user     = digitalocean_database_cluster.postgres.user
    password = digitalocean_database_cluster.postgres.password
  }
  sensitive = true
}

output "redis_url" {
  description = "rediss:// URL of managed Valkey on the private network (TLS, default user) for MARQUEE_REDIS_URL."
  value       = digitalocean_database_cluster.valkey.private_uri
  sensitive   = true
}

output "network_policy_destinations" {
  description = "networkPolicy.destinations entries for the chart: postgres and redis (the VPC, their ports) and objectStore (Spaces)."
  value = {
    postgres = {
      ports = [digitalocean_database_cluster.postgres.port]
      to    = [{ ipBlock = { cidr = digitalocean_vpc.this.ip_range } }]
    }
    redis = {
      ports = [digitalocean_database_cluster.valkey.port]
      to    = [{ ipBlock = { cidr = digitalocean_vpc.this.ip_range } }]
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
  value       = digitalocean_spaces_bucket.assets.name
}

output "bucket_endpoint" {
  description = "S3-compatible endpoint of the bucket's region."
  value       = "https://${var.region}.digitaloceanspaces.com"
}

output "object_store" {
  description = "The content service's Spaces key (readwrite on the assets bucket only), endpoint and signing region."
  value = {
    access_key_id     = digitalocean_spaces_key.content.access_key
    secret_access_key = digitalocean_spaces_key.content.secret_key
    endpoint          = "https://${var.region}.digitaloceanspaces.com"
    region            = var.region
  }
  sensitive = true
}
