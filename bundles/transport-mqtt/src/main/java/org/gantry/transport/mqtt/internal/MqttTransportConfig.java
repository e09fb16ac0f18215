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
      description = "tcp://host:port of the MQTT broker. ssl:// is not supported yet.")
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
}
