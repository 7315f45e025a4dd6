# Memorystore for Redis: the gateway's shared rate-limit buckets. Private service access
# (an address from the same peered range as Cloud SQL), AUTH on, TLS in transit
# (server authentication: port 6378, the instance's CA in output redis_ca_certificate).

resource "google_redis_instance" "this" {
  project        = var.project_id
  name           = "${var.name}-redis"
  region         = var.region
  display_name   = "Marquee rate limits (${var.name})"
  tier           = var.redis.tier
  memory_size_gb = var.redis.memory_size_gb
  redis_version  = var.redis.version
  labels         = merge(var.labels, { app = "marquee" })

  authorized_network = google_compute_network.this.id
  connect_mode       = "PRIVATE_SERVICE_ACCESS"
  reserved_ip_range  = google_compute_global_address.private_services.name

  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"

  # Rate-limit buckets are short-lived: nothing to persist.
  persistence_config {
    persistence_mode = "DISABLED"
  }

  maintenance_policy {
    weekly_maintenance_window {
      day = "SUNDAY"
      start_time {
        hours   = 3
        minutes = 0
        seconds = 0
        nanos   = 0
      }
    }
  }

  depends_on = [google_service_networking_connection.private_services, google_project_service.this]
}
