from .auc import MultiLabelAUC, roc_auc
from .retrieval import RetrievalRecall, recall_at_k

__all__ = ['MultiLabelAUC', 'roc_auc', 'RetrievalRecall', 'recall_at_k']
