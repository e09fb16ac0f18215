package org.gantry.jobdoc.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.operation.DocumentReason;

/**
 * Finds presigned-URL placeholders that reached the gateway unreplaced. AWS IoT Jobs replaces
 * {@code ${aws:iot:s3-presigned-url:<s3 url>}} with a presigned URL when the device fetches the
 * document, provided the job has a presign role; a placeholder that arrives here can only fail
 * later, half-way through a job, so it is refused before anything runs.
 */
final class Placeholders {

  static final String PRESIGNED_URL = "${aws:iot:s3-presigned-url:";

  private Placeholders() {}

  /**
   * Refuses {@code root} when any string value in it holds a presigned-URL placeholder. Walks the
   * tree with its own stack: the reader bounded the depth already, but recursion is not needed.
   */
  static void check(Map<String, Object> root) throws JobDocumentException {
    Deque<Object[]> todo = new ArrayDeque<>();
    todo.push(new Object[] {"", root});
    while (!todo.isEmpty()) {
      Object[] next = todo.pop();
      String path = (String) next[0];
      Object value = next[1];
      if (value instanceof String s) {
        if (s.contains(PRESIGNED_URL)) {
          throw new JobDocumentException(
              DocumentReason.UNRESOLVED_PLACEHOLDER,
              "The job document's "
                  + (path.isEmpty() ? "value" : path)
                  + " still holds the presigned-URL placeholder "
                  + StrictJsonReader.quote(s)
                  + ": AWS IoT replaces it only for a job created with a presign role"
                  + " (presignedUrlConfig), so the gateway has no URL it could fetch. Create the"
                  + " job with presignedUrlConfig.");
        }
      } else if (value instanceof Map<?, ?> m) {
        for (Map.Entry<?, ?> e : m.entrySet()) {
          todo.push(new Object[] {Fields.at(path, String.valueOf(e.getKey())), e.getValue()});
        }
      } else if (value instanceof List<?> l) {
        for (int i = 0; i < l.size(); i++) {
          todo.push(new Object[] {path + "[" + i + "]", l.get(i)});
        }
      }
    }
  }
}
