package org.gantry.broker.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the embedded broker, PID {@code org.gantry.broker}. */
@ObjectClassDefinition(
    name = "Gantry embedded MQTT broker",
    description =
        "The hub role's MQTT 3.1.1 broker (Moquette): a plain TCP and/or a mutual-TLS listener,"
            + " optional authorisation from a Mosquitto-style ACL file, telemetry off,"
            + " TCP_NODELAY.")
@interface BrokerConfig {

  @AttributeDefinition(
      description =
          "Address of the plain TCP listener. Keep the loopback default: plain clients have no"
              + " identity of their own.")
  String host() default "127.0.0.1";

  @AttributeDefinition(description = "Plain TCP port for MQTT (1-65535), or 0 for none.")
  int port();

  @AttributeDefinition(
      description =
          "Largest MQTT message accepted, in bytes (at least 131072, so that a 32 KB job document"
              + " and its envelope always fit).")
  int max_message_bytes() default BrokerSettings.MIN_MESSAGE_BYTES;

  @AttributeDefinition(
      description =
          "Folder for the broker's sessions, subscriptions and queued messages; empty keeps them in"
              + " memory only (lost on restart).")
  String data_dir() default "";

  @AttributeDefinition(
      description =
          "Mutual-TLS port (1-65535), or 0 for none. Clients must present a certificate issued by"
              + " the CA in tls.ca.file; their identity is its subject CN.")
  int tls_port() default 0;

  @AttributeDefinition(description = "Address of the TLS listener; empty = the same as host.")
  String tls_host() default "";

  @AttributeDefinition(description = "PKCS#12 file with the broker's private key and certificate.")
  String tls_keystore_file() default "";

  @AttributeDefinition(
      type = AttributeType.PASSWORD,
      description = "Password of tls.keystore.file (and of the key inside it).")
  String tls_keystore_password() default "";

  @AttributeDefinition(
      description = "PEM file with the site CA certificate(s) that client certificates chain to.")
  String tls_ca_file() default "";

  @AttributeDefinition(
      description =
          "Mosquitto-style ACL file (user / topic / pattern lines), reloaded when it changes;"
              + " empty = no authorisation, every client may do everything.")
  String acl_file() default "";

  @AttributeDefinition(
      description =
          "With acl.file: the principal every client of the plain listener acts as (for example"
              + " gantry-hub); empty = plain clients may do nothing. Any local process can use the"
              + " plain listener, so it then has this principal's rights.")
  String plain_principal() default "";
}
