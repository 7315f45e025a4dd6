variable "namespace" {
  description = "Namespace of the Marquee Helm release (created here, with the Secrets the chart reads)."
  type        = string
  default     = "marquee"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "monitoring_namespace" {
  description = "Namespace of Prometheus, which may scrape the brokers' metrics port (15692)."
  type        = string
  default     = "monitoring"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.monitoring_namespace))
    error_message = "monitoring_namespace must be a DNS label."
  }
}

variable "release_name" {
  description = "Helm release name: Secrets are named <release>-<service>, as services.<svc>.existingSecret expects."
  type        = string
  default     = "marquee"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$", var.release_name))
    error_message = "release_name must be a DNS label of at most 42 characters."
  }
}

variable "services" {
  description = "Services that get a Secret <release>-<service>."
  type        = list(string)
  default     = ["gateway", "auth", "content", "tagging", "billing", "campaign"]

  validation {
    condition     = alltrue([for s in var.services : contains(["gateway", "auth", "content", "tagging", "billing", "campaign"], s)])
    error_message = "services may only name gateway, auth, content, tagging, billing and campaign."
  }
}

variable "rabbitmq" {
  description = "The RabbitmqCluster: replicas (1 or an odd number for quorum queues), image, resources, and the persistent volume."
  type = object({
    replicas      = number
    image         = optional(string, "rabbitmq:4.1-management")
    cpu           = optional(string, "1")
    memory        = optional(string, "2Gi")
    storage_gb    = optional(number, 20)
    storage_class = string
  })

  validation {
    condition     = contains([1, 3, 5, 7], var.rabbitmq.replicas)
    error_message = "rabbitmq.replicas must be 1, 3, 5 or 7 (quorum queues need an odd number)."
  }

  validation {
    condition     = var.rabbitmq.storage_gb >= 10 && var.rabbitmq.storage_gb <= 1000
    error_message = "rabbitmq.storage_gb must be 10-1000."
  }

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?[MG]i$", var.rabbitmq.memory)) && can(regex("^[0-9]+(m|(\\.[0-9]+)?)$", var.rabbitmq.cpu))
    error_message = "rabbitmq.memory must be a quantity such as 2Gi or 512Mi, and rabbitmq.cpu one such as 1 or 500m."
  }

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9./_-]*:[A-Za-z0-9._-]+(@sha256:[0-9a-f]{64})?$", var.rabbitmq.image))
    error_message = "rabbitmq.image must be repository:tag (optionally @sha256:digest)."
  }
}

variable "rabbitmq_operator_chart_version" {
  description = "Version of the Bitnami rabbitmq-cluster-operator chart (oci://registry-1.docker.io/bitnamicharts); its CRDs must match rabbitmq_operator_image."
  type        = string
  default     = "4.4.3"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.rabbitmq_operator_chart_version))
    error_message = "rabbitmq_operator_chart_version must be an exact version (x.y.z)."
  }
}

variable "rabbitmq_operator_image" {
  description = "Upstream RabbitMQ Cluster Operator image (Bitnami's own images are no longer public): repository and tag."
  type = object({
    repository = string
    tag        = string
  })
  default = {
    repository = "rabbitmqoperator/cluster-operator"
    tag        = "2.17.0"
  }

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.rabbitmq_operator_image.tag))
    error_message = "rabbitmq_operator_image.tag must be an exact version (x.y.z)."
  }
}

variable "secret_backend" {
  description = "How the services' Secrets reach the cluster: gcp-secret-manager (the External Secrets Operator installed here syncs them from Secret Manager) or kubernetes (modules/kubernetes-secrets writes them; nothing installed here)."
  type        = string

  validation {
    condition     = contains(["gcp-secret-manager", "kubernetes"], var.secret_backend)
    error_message = "secret_backend must be gcp-secret-manager or kubernetes."
  }
}

variable "external_secrets_chart_version" {
  description = "Version of the external-secrets chart (https://charts.external-secrets.io)."
  type        = string
  default     = "2.0.1"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.external_secrets_chart_version))
    error_message = "external_secrets_chart_version must be an exact version (x.y.z)."
  }
}

variable "gcp_project_id" {
  description = "Project whose Secret Manager holds the services' secrets (secret_backend = gcp-secret-manager)."
  type        = string
  default     = ""

  validation {
    condition     = var.gcp_project_id == "" || can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.gcp_project_id))
    error_message = "gcp_project_id must be empty or a Google Cloud project ID."
  }
}

variable "gcp_secret_ids" {
  description = "Secret Manager secret ID per service (the same map modules/gcp-secrets gets)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for id in values(var.gcp_secret_ids) : can(regex("^[A-Za-z0-9_-]{1,255}$", id))])
    error_message = "secret IDs may hold letters, digits, dashes and underscores (255 at most)."
  }
}

variable "external_secrets_gcp_service_account" {
  description = "Google service account the External Secrets controller acts as (Workload Identity; output external_secrets_service_account of modules/gke)."
  type        = string
  default     = ""
}
