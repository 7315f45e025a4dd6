# In-cluster pieces of the platform, on either cloud: the application namespace, RabbitMQ
# (Cluster Operator installed with Helm, one RabbitmqCluster), and on GKE the External
# Secrets Operator that syncs the services' Secrets from Secret Manager (on DigitalOcean,
# which has no secret manager to sync from, modules/kubernetes-secrets writes them).
#
# kubernetes_manifest needs the CRDs at plan time: the first apply of an environment is
# staged (docs/deploy.md, "First apply"): cluster, then the two operators, then the rest.

resource "kubernetes_namespace_v1" "app" {
  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/part-of"          = "marquee"
      "pod-security.kubernetes.io/enforce" = "restricted"
    }
  }
}

# --- RabbitMQ -----------------------------------------------------------------------

resource "helm_release" "rabbitmq_operator" {
  name             = "rabbitmq-cluster-operator"
  repository       = "oci://registry-1.docker.io/bitnamicharts"
  chart            = "rabbitmq-cluster-operator"
  version          = var.rabbitmq_operator_chart_version
  namespace        = "rabbitmq-system"
  create_namespace = true
  atomic           = true
  wait             = true
  timeout          = 600

  values = [yamlencode({
    # Bitnami's images moved behind a subscription: run the upstream operator image, which
    # the chart must be told to accept. The broker image is set on the RabbitmqCluster.
    global = { security = { allowInsecureImages = true } }
    clusterOperator = {
      image = {
        registry   = "docker.io"
        repository = var.rabbitmq_operator_image.repository
        tag        = var.rabbitmq_operator_image.tag
      }
    }
    # Users, vhosts and permissions are not managed as objects (see docs/deploy.md).
    msgTopologyOperator = { enabled = false }
    useCertManager      = false
  })]
}

resource "kubernetes_namespace_v1" "rabbitmq" {
  metadata {
    name   = "rabbitmq"
    labels = { "app.kubernetes.io/part-of" = "marquee" }
  }
}

resource "kubernetes_manifest" "rabbitmq" {
  manifest = {
    apiVersion = "rabbitmq.com/v1beta1"
    kind       = "RabbitmqCluster"
    metadata = {
      name      = "rabbitmq"
      namespace = kubernetes_namespace_v1.rabbitmq.metadata[0].name
    }
    spec = {
      replicas = var.rabbitmq.replicas
      image    = var.rabbitmq.image
      resources = {
        requests = { cpu = var.rabbitmq.cpu, memory = var.rabbitmq.memory }
        limits   = { cpu = var.rabbitmq.cpu, memory = var.rabbitmq.memory }
      }
      persistence = {
        storageClassName = var.rabbitmq.storage_class
        storage          = "${var.rabbitmq.storage_gb}Gi"
      }
      rabbitmq = {
        additionalConfig = join("\n", [
          "cluster_partition_handling = pause_minority",
          "queue_leader_locator = balanced",
          "vm_memory_high_watermark.relative = 0.8",
        ])
      }
    }
  }

  wait {
    condition {
      type   = "AllReplicasReady"
      status = "True"
    }
  }

  timeouts {
    create = "20m"
    update = "20m"
  }

  depends_on = [helm_release.rabbitmq_operator]
}

# Who may reach the broker: Marquee's pods (AMQP), the brokers themselves (clustering,
# inter-node and CLI ports), the operator (management API) and Prometheus (metrics).
resource "kubernetes_network_policy_v1" "rabbitmq" {
  metadata {
    name      = "rabbitmq"
    namespace = kubernetes_namespace_v1.rabbitmq.metadata[0].name
  }

  spec {
    pod_selector {}
    policy_types = ["Ingress"]

    ingress {
      from {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = kubernetes_namespace_v1.app.metadata[0].name }
        }
      }
      ports {
        port     = "5672"
        protocol = "TCP"
      }
    }

    ingress {
      from {
        pod_selector {}
      }
    }

    ingress {
      from {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = "rabbitmq-system" }
        }
      }
      ports {
        port     = "15672"
        protocol = "TCP"
      }
    }

    ingress {
      from {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = var.monitoring_namespace }
        }
      }
      ports {
        port     = "15692"
        protocol = "TCP"
      }
    }
  }
}

# The operator writes the default user's credentials once the cluster runs.
data "kubernetes_secret_v1" "rabbitmq_default_user" {
  metadata {
    name      = "rabbitmq-default-user"
    namespace = kubernetes_namespace_v1.rabbitmq.metadata[0].name
  }

  depends_on = [kubernetes_manifest.rabbitmq]
}

locals {
  rabbitmq_user     = try(data.kubernetes_secret_v1.rabbitmq_default_user.data["username"], "")
  rabbitmq_password = try(data.kubernetes_secret_v1.rabbitmq_default_user.data["password"], "")
  amqp_url = format(
    "amqp://%s:%s@rabbitmq.%s.svc:5672/%%2F",
    urlencode(local.rabbitmq_user),
    urlencode(local.rabbitmq_password),
    kubernetes_namespace_v1.rabbitmq.metadata[0].name,
  )
}

# --- Secrets: Secret Manager through External Secrets (GKE) -------------------------

resource "helm_release" "external_secrets" {
  count = var.secret_backend == "gcp-secret-manager" ? 1 : 0

  name             = "external-secrets"
  repository       = "https://charts.external-secrets.io"
  chart            = "external-secrets"
  version          = var.external_secrets_chart_version
  namespace        = "external-secrets"
  create_namespace = true
  atomic           = true
  wait             = true

  values = [yamlencode({
    installCRDs = true
    serviceAccount = {
      name        = "external-secrets"
      annotations = { "iam.gke.io/gcp-service-account" = var.external_secrets_gcp_service_account }
    }
  })]

  lifecycle {
    precondition {
      condition     = var.gcp_project_id != "" && var.external_secrets_gcp_service_account != ""
      error_message = "secret_backend gcp-secret-manager needs gcp_project_id and external_secrets_gcp_service_account."
    }
  }
}

# No auth block: the controller uses its pod's Workload Identity (the Google service
# account above, which may read only the Marquee secrets). Only the release namespace
# may use the store.
resource "kubernetes_manifest" "cluster_secret_store" {
  count = var.secret_backend == "gcp-secret-manager" ? 1 : 0

  manifest = {
    apiVersion = "external-secrets.io/v1"
    kind       = "ClusterSecretStore"
    metadata   = { name = "gcp-secret-manager" }
    spec = {
      provider = { gcpsm = { projectID = var.gcp_project_id } }
      conditions = [{
        namespaces = [kubernetes_namespace_v1.app.metadata[0].name]
      }]
    }
  }

  depends_on = [helm_release.external_secrets]
}

# Each service's secret holds a JSON object of its environment variables; extract turns
# it into the keys of <release>-<service>.
resource "kubernetes_manifest" "external_secret" {
  for_each = var.secret_backend == "gcp-secret-manager" ? toset(var.services) : toset([])

  manifest = {
    apiVersion = "external-secrets.io/v1"
    kind       = "ExternalSecret"
    metadata = {
      name      = "${var.release_name}-${each.key}"
      namespace = kubernetes_namespace_v1.app.metadata[0].name
    }
    spec = {
      refreshInterval = "1h"
      secretStoreRef  = { kind = "ClusterSecretStore", name = "gcp-secret-manager" }
      target = {
        name           = "${var.release_name}-${each.key}"
        creationPolicy = "Owner"
        deletionPolicy = "Retain"
      }
      dataFrom = [{ extract = { key = var.gcp_secret_ids[each.key] } }]
    }
  }

  depends_on = [kubernetes_manifest.cluster_secret_store]
}
