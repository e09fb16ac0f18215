package org.gantry.transport.mqtt.internal;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

/**
 * Builds {@link MqttTransportConfig} instances the way Declarative Services does: property names
 * from method names ({@code broker_url} → {@code broker.url}, {@code _password} → {@code
 * .password}), defaults from the annotation, null/0 for a missing property without default.
 */
final class TestConfigs {

  private TestConfigs() {}

  /** Alternating property names and values. */
  static MqttTransportConfig config(Object... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("names and values must alternate");
    }
    Map<String, Object> props = new HashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      props.put((String) namesAndValues[i], namesAndValues[i + 1]);
    }
    return config(props);
  }

  static MqttTransportConfig config(Map<String, Object> props) {
    Map<String, Object> copy = new HashMap<>(props);
    return (MqttTransportConfig)
        Proxy.newProxyInstance(
            MqttTransportConfig.class.getClassLoader(),
            new Class<?>[] {MqttTransportConfig.class},
            (proxy, method, args) -> {
              return switch (method.getName()) {
                case "annotationType" -> MqttTransportConfig.class;
                case "toString" -> "MqttTransportConfig" + copy;
                case "hashCode" -> copy.hashCode();
                case "equals" -> proxy == args[0];
                default -> value(method, copy);
              };
            });
  }

  private static Object value(Method method, Map<String, Object> props) {
    String name = propertyName(method.getName());
    Object raw = props.containsKey(name) ? props.get(name) : method.getDefaultValue();
    Class<?> type = method.getReturnType();
    if (raw == null) {
      if (type == int.class) {
        return 0;
      }
      if (type == long.class) {
        return 0L;
      }
      if (type == boolean.class) {
        return false;
      }
      return null;
    }
    if (type == String.class) {
      return raw.toString();
    }
    if (type == int.class) {
      return raw instanceof Number n ? n.intValue() : Integer.parseInt(raw.toString());
    }
    if (type == long.class) {
      return raw instanceof Number n ? n.longValue() : Long.parseLong(raw.toString());
    }
    if (type == boolean.class) {
      return raw instanceof Boolean b ? b : Boolean.parseBoolean(raw.toString());
    }
    throw new IllegalStateException("unsupported config type " + type);
  }

  /** The DS 1.4 mapping of an annotation method name to a property name (§112.8.2.2). */
  static String propertyName(String methodName) {
    StringBuilder name = new StringBuilder();
    for (int i = 0; i < methodName.length(); i++) {
      char c = methodName.charAt(i);
      boolean doubled = i + 1 < methodName.length() && methodName.charAt(i + 1) == c;
      if (c == '_') {
        name.append(doubled ? '_' : '.');
        i += doubled ? 1 : 0;
      } else if (c == '$') {
        if (doubled) {
          name.append('$');
          i++;
        }
      } else {
        name.append(c);
      }
    }
    return name.toString();
  }
}
