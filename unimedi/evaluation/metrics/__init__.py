from .auc import MultiLabelAUC, roc_auc
from .multi_class import MultiClassMetric
from .retrieval import RetrievalRecall, recall_at_k

__all__ = ['MultiLabelAUC', 'MultiClassMetric', 'roc_auc', 'RetrievalRecall', 'recall_at_k']
