package org.gantry.hub.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the hub, PID {@code org.gantry.hub}. */
@ObjectClassDefinition(
    name = "Gantry hub",
    description =
        "The self-hosted AWS IoT Jobs control plane: the device API over MQTT, the management API"
            + " over HTTP, and the durable store of things, jobs and executions.")
@interface HubConfig {

  @AttributeDefinition(
      description =
          "The MQTT broker the hub connects to as an ordinary client, tcp://host:port or"
              + " ssl://host:port (the embedded broker or any MQTT 3.1.1 broker).")
  String mqtt_url() default "tcp://127.0.0.1:1883";

  @AttributeDefinition(description = "MQTT client id of the hub (1-64 characters).")
  String client_id() default "gantry-hub";

  @AttributeDefinition(
      description =
          "Address of the management HTTP API. Any address but loopback needs api.auth.keys,"
              + " api.auth.tokens or api.auth.file.")
  String api_host() default "127.0.0.1";

  @AttributeDefinition(description = "TCP port of the management HTTP API (1-65535).")
  int api_port();

  @AttributeDefinition(
      description =
          "Folder of the hub's store: the snapshot hub-state.json and the log of changes"
              + " hub-log.<generation>.")
  String data_dir();

  @AttributeDefinition(
      description =
          "Address of the artifact server that answers presigned URLs (GET and HEAD of signed"
              + " URLs only); the gateways must reach it.")
  String artifacts_host() default "127.0.0.1";

  @AttributeDefinition(
      description = "TCP port of the artifact server, 0 for a free port chosen at each start.")
  int artifacts_port() default 0;

  @AttributeDefinition(
      description =
          "Base URL the gateways reach the artifact server at, e.g. https://hub.example:8443 behind"
              + " a TLS proxy; empty for http://artifacts.host:port.")
  String artifacts_url() default "";

  @AttributeDefinition(
      description = "Largest artifact an operator may upload (PUT /artifacts/<key>), in bytes.")
  long artifacts_max_bytes() default 1L << 30;

  @AttributeDefinition(description = "AWS region written into the ARNs the hub hands out.")
  String region() default "us-east-1";

  @AttributeDefinition(
      description = "12-digit AWS account id written into the ARNs the hub hands out.")
  String account_id() default "000000000000";

  @AttributeDefinition(
      description =
          "Broker ACL file the hub writes from its thing principals (Mosquitto acl_file syntax),"
              + " rewritten atomically on every change; empty for none.")
  String acl_file() default "";

  @AttributeDefinition(
      description =
          "Comma-separated principals (certificate CNs) allowed every thing's jobs topics in the"
              + " ACL file: the hub's own connection.")
  String acl_admin_principals() default "gantry-hub";

  @AttributeDefinition(
      description =
          "Command run after each rewrite of the ACL file, split on spaces and run without a shell"
              + " (e.g. kill -HUP <mosquitto pid>); empty for none. Killed after 10 s.")
  String acl_reload_command() default "";

  @AttributeDefinition(
      description =
          "Comma-separated ACCESS_KEY_ID:SECRET pairs accepted as AWS Signature Version 4"
              + " credentials on the management API (service iot, the hub's region).")
  String api_auth_keys() default "";

  @AttributeDefinition(
      description =
          "Comma-separated bearer tokens (16-512 characters) accepted as Authorization: Bearer"
              + " <token> on the management API.")
  String api_auth_tokens() default "";

  @AttributeDefinition(
      description =
          "File of further credentials, one per line: 'key ACCESS_KEY_ID SECRET' or 'token"
              + " TOKEN' (# comments), so secrets need not sit in a .cfg; empty for none.")
  String api_auth_file() default "";

  @AttributeDefinition(
      description =
          "PEM file of the site CA that signed the broker's certificate; required with an ssl://"
              + " mqtt.url.")
  String mqtt_ca_file() default "";

  @AttributeDefinition(
      description =
          "PKCS#12 key store with the hub's private key and certificate (CN gantry-hub) for"
              + " brokers that require client certificates; empty for none.")
  String mqtt_keystore_file() default "";

  @AttributeDefinition(
      description = "Password of mqtt.keystore.file.",
      type = org.osgi.service.metatype.annotations.AttributeType.PASSWORD)
  String mqtt_keystore_password() default "";
}
