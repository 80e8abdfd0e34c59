from __future__ import annotations

from typing import Any

from rest_framework import serializers

from evidence.models import EvidenceReport


class ReportRequestSerializer(serializers.Serializer):
    framework = serializers.ChoiceField(choices=["soc2"], default="soc2")
    # "from" is a keyword: the wire names are mapped in the view.
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    sample = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    seed = serializers.CharField(required=False, min_length=1, max_length=64)


class ReportSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by_name")
    download = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceReport
        fields = [
            "id",
            "framework",
            "status",
            "progress",
            "error",
            "requested_by",
            "created_at",
            "finished_at",
            "sample_size",
            "seed",
            "seq_from",
            "seq_to",
            "sha256",
            "size",
            "download",
        ]

    def get_download(self, report: EvidenceReport) -> str | None:
        if report.status != "ready":
            return None
        return f"/api/v1/reports/{report.pk}/download"

    def to_representation(self, instance: EvidenceReport) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["from"] = instance.period_from.isoformat()
        data["to"] = instance.period_to.isoformat()
        return data
