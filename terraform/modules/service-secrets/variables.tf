variable "services" {
  description = "Services of the release that get a Secret (marquee-<service>)."
  type        = list(string)
  default     = ["gateway", "auth", "content", "tagging", "billing", "campaign"]

  validation {
    condition     = alltrue([for s in var.services : contains(["gateway", "auth", "content", "tagging", "billing", "campaign"], s)])
    error_message = "services may only name gateway, auth, content, tagging, billing and campaign."
  }

  validation {
    condition     = length(distinct(var.services)) == length(var.services)
    error_message = "services must not repeat a name."
  }
}

variable "database_urls" {
  description = "postgres:// URL per service database (output database_urls of modules/databases)."
  type        = map(string)
  sensitive   = true
}

variable "amqp_url" {
  description = "amqp:// URL of the broker (output amqp_url of modules/platform)."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^amqps?://", var.amqp_url))
    error_message = "amqp_url must start with amqp:// or amqps://."
  }
}

variable "redis_url" {
  description = "rediss:// URL of the managed Redis/Valkey (TLS and AUTH on)."
  type        = string
  sensitive   = true

  validation {
    condition     = startswith(var.redis_url, "rediss://")
    error_message = "redis_url must be a rediss:// (TLS) URL."
  }
}

variable "redis_ca_certificate" {
  description = "PEM CA of the managed Redis's server certificate when it is not a public CA (Memorystore); empty: the public roots. Delivered to the gateway as REDIS_CA_CERT (chart: services.gateway.secretFiles)."
  type        = string
  default     = ""

  validation {
    condition     = var.redis_ca_certificate == "" || startswith(trimspace(var.redis_ca_certificate), "-----BEGIN CERTIFICATE-----")
    error_message = "redis_ca_certificate must be empty or a PEM certificate."
  }
}

variable "object_store" {
  description = "S3-compatible credentials, endpoint and signing region of the assets bucket (content's AWS_* environment)."
  type = object({
    access_key_id     = string
    secret_access_key = string
    endpoint          = string
    region            = string
  })
  sensitive = true

  validation {
    condition     = startswith(var.object_store.endpoint, "https://")
    error_message = "object_store.endpoint must be an https:// URL."
  }
}

variable "kek_provider" {
  description = "Where auth's signing keys and campaign's connector credentials are sealed: local (a generated 32-byte key in the Secret) or gcp-kms (Cloud KMS; no key in the Secret)."
  type        = string
  default     = "local"

  validation {
    condition     = contains(["local", "gcp-kms"], var.kek_provider)
    error_message = "kek_provider must be local or gcp-kms."
  }
}

variable "bootstrap_admin_email" {
  description = "E-mail of the first administrator auth creates at start-up (its password is generated; output bootstrap_admin_password). Empty: no bootstrap admin."
  type        = string
  default     = ""

  validation {
    condition     = var.bootstrap_admin_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.bootstrap_admin_email))
    error_message = "bootstrap_admin_email must be empty or an e-mail address."
  }
}

variable "extra_secrets" {
  description = "Keys Terraform cannot make (Stripe, Gemini, Google sign-in), by service, merged over the generated ones: { billing = { MARQUEE_STRIPE_SECRET_KEY = \"…\" } }."
  type        = map(map(string))
  default     = {}
  sensitive   = true
}
