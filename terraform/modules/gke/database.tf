# Cloud SQL for PostgreSQL on a private IP only, TLS required, point-in-time recovery,
# and the administrator user; the per-service databases and roles are made over SQL by
# modules/databases.

resource "google_sql_database_instance" "postgres" {
  #checkov:skip=CKV_GCP_6:ssl_mode ENCRYPTED_ONLY refuses every unencrypted connection; client certificates (the only mode this check accepts) would mean distributing per-service certs, and the instance has no public IP.
  project             = var.project_id
  name                = "${var.name}-pg"
  region              = var.region
  database_version    = "POSTGRES_18"
  deletion_protection = true

  settings {
    tier              = var.postgres.tier
    edition           = "ENTERPRISE"
    availability_type = var.postgres.high_availability ? "REGIONAL" : "ZONAL"
    disk_size         = var.postgres.disk_size_gb
    disk_type         = "PD_SSD"
    disk_autoresize   = true
    user_labels       = merge(var.labels, { app = "marquee" })

    ip_configuration {
      ipv4_enabled                                  = false
      private_network                               = google_compute_network.this.id
      ssl_mode                                      = "ENCRYPTED_ONLY"
      enable_private_path_for_google_cloud_services = true
    }

    backup_configuration {
      enabled                        = true
      start_time                     = "01:00"
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7

      backup_retention_settings {
        retained_backups = var.postgres.retained_backups
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = 7
      hour         = 2
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      record_application_tags = true
      record_client_address   = false
    }

    # Logging flags that security baselines (CIS) expect.
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_min_messages"
      value = "error"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "log_duration"
      value = "on"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
  }

  depends_on = [google_service_networking_connection.private_services]
}

# The administrator Terraform's postgresql provider connects as (modules/databases). Users
# made through the Cloud SQL API all join cloudsqlsuperuser, so this is the only one: the
# services' roles are created over SQL and hold no such membership.
resource "random_password" "admin" {
  length  = 40
  special = false
}

resource "google_sql_user" "admin" {
  project  = var.project_id
  name     = "marquee_admin"
  instance = google_sql_database_instance.postgres.name
  password = random_password.admin.result
}
