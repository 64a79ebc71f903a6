"""Release notifications on an SNS topic of the stack (ReleaseTopic): one JSON message per
transition, with the transition and function as message attributes so subscribers can filter."""

from __future__ import annotations

import json
from typing import Any

from core.release.notifications import Notification


class SnsNotifier:
    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        if client is None:
            from core.shared.aws_clients import client as make_client

            client = make_client("sns")
        self.topic_arn = topic_arn
        self._client = client

    def publish(self, notification: Notification) -> None:
        self._client.publish(
            TopicArn=self.topic_arn,
            Subject=notification.subject(),
            Message=json.dumps(notification.model_dump(), sort_keys=True),
            MessageAttributes={
                "transition": {"DataType": "String", "StringValue": notification.transition},
                "function": {"DataType": "String", "StringValue": notification.function_name},
            },
        )
