package org.gantry.transport.mqtt.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the MQTT transport, PID {@value PahoMqttTransport#PID}. Method names map to
 * property names the DS way: {@code broker_url} is {@code broker.url}, {@code _password} is the
 * private property {@code .password}.
 */
@ObjectClassDefinition(
    name = "Gantry MQTT transport",
    description = "The gateway's MQTT 3.1.1 connection to its broker.")
@interface MqttTransportConfig {

  @AttributeDefinition(
      name = "Broker URL",
      description =
          "tcp://host:port or ssl://host:port of the MQTT broker (ssl: TLS 1.2+, hostname"
              + " verified).")
  String broker_url();

  @AttributeDefinition(
      name = "Client id",
      description = "The MQTT client id, 1 to 128 characters (on AWS IoT Core: the thing name).")
  String client_id();

  @AttributeDefinition(
      name = "Keep-alive (s)",
      description = "MQTT keep-alive interval: how soon a dead connection is noticed.",
      min = "1",
      max = "65535")
  int keepalive_seconds() default 30;

  @AttributeDefinition(
      name = "Connect timeout (s)",
      description = "Longest wait for the TCP connection and the CONNACK, and for each SUBACK.",
      min = "1",
      max = "3600")
  int connect_timeout_seconds() default 10;

  @AttributeDefinition(
      name = "Reconnect delay, minimum (ms)",
      description = "First delay before reconnecting; doubles per failed attempt, with jitter.",
      min = "1")
  long reconnect_min_millis() default 1000;

  @AttributeDefinition(
      name = "Reconnect delay, maximum (ms)",
      description = "Cap of the reconnect delay.",
      min = "1")
  long reconnect_max_millis() default 60000;

  @AttributeDefinition(
      name = "Maximum in-flight publishes",
      description =
          "Publishes handed to the MQTT client and not yet acknowledged; more wait in order.",
      min = "1",
      max = "10000")
  int max_inflight() default 64;

  @AttributeDefinition(name = "User name", description = "MQTT user name.", required = false)
  String username();

  @AttributeDefinition(
      name = "Password",
      description = "MQTT password; needs a user name.",
      required = false,
      type = AttributeType.PASSWORD)
  String _password();

  @AttributeDefinition(
      name = "CA bundle (PEM)",
      description =
          "Certificates of the CAs that may sign the broker's certificate; required with ssl://.",
      required = false)
  String tls_ca_file();

  @AttributeDefinition(
      name = "Device certificate (PEM)",
      description = "The client certificate, optionally followed by its chain; needs tls.key.file.",
      required = false)
  String tls_cert_file();

  @AttributeDefinition(
      name = "Private key (PEM)",
      description = "The client's private key: PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted.",
      required = false)
  String tls_key_file();

  @AttributeDefinition(
      name = "Client identity (PKCS#12)",
      description = "Instead of tls.cert.file and tls.key.file: a PKCS#12 file with one key.",
      required = false)
  String tls_pkcs12_file();

  @AttributeDefinition(
      name = "PKCS#12 password",
      description = "Password of tls.pkcs12.file.",
      required = false,
      type = AttributeType.PASSWORD)
  String _tls_pkcs12_password();

  @AttributeDefinition(
      name = "ALPN protocols",
      description =
          "Comma-separated ALPN protocol names; x-amzn-mqtt-ca for AWS IoT Core on port 443.",
      required = false)
  String tls_alpn();

  @AttributeDefinition(
      name = "Clean session",
      description =
          "false keeps the broker session (subscriptions, QoS 1 messages queued while offline).")
  boolean clean_session() default false;

  @AttributeDefinition(
      name = "Data folder",
      description =
          "Where the durable outbox lives; default ${gantry.data.dir}/transport from the framework"
              + " property gantry.data.dir.",
      required = false)
  String data_dir();

  @AttributeDefinition(
      name = "Durable outbox limit (bytes)",
      description = "Largest size of durable messages not yet acknowledged; more are refused.",
      min = "1024")
  long durable_max_bytes() default 64L * 1024 * 1024;

  @AttributeDefinition(
      name = "Duplicate client id: window (s)",
      description =
          "A connection lost this soon after it was made counts as dropped by the broker.",
      min = "1",
      max = "3600")
  int duplicate_window_seconds() default 10;

  @AttributeDefinition(
      name = "Duplicate client id: losses",
      description = "This many quick losses in a row make a duplicate client id suspected.",
      min = "2",
      max = "100")
  int duplicate_losses() default 3;

  @AttributeDefinition(
      name = "Duplicate client id: backoff (ms)",
      description = "Reconnect delay while a duplicate client id is suspected (with jitter).",
      min = "1")
  long duplicate_backoff_millis() default 300000;
}
